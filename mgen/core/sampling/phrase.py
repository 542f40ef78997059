"""A phrase played live (call and response: the page's keys or a MIDI keyboard, `mgen play`) as
the primer of a MIDI model, at the tempo it was played.

The phrase is notes timed in seconds as they were played. Its tempo is read from the gaps
between its onsets (`played_tempo`), the phrase is written as a MIDI file at that tempo
(one piano track, its onsets and lengths in beats) and read back by the model's tokenizer, as
an uploaded primer file is: so the tokens the model continues are those of a file it could have
trained on, its tempo token included, and the continuation is written at the same tempo.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from mgen.core.contracts.errors import ConfigError
from mgen.core.contracts.tokenizer import Tokenizer
from mgen.core.sampling.primer import read_upload, require_known
from mgen.formats.midi.write import midi_bytes
from mgen.formats.score import Score, Track

MAX_NOTES = 512  # notes in one phrase
MAX_SECONDS = 120.0  # how long a phrase may last
TEMPO_RANGE = (60.0, 180.0)  # bpm the played beat is folded into
DEFAULT_TEMPO = 120.0  # a phrase of one onset
MIN_GAP = 0.06  # seconds: onsets closer than this are one chord


@dataclass(frozen=True)
class Phrase:
    """What the model continues: its tokens, the tempo read from the playing (bpm), and how
    long the phrase lasts in beats and (as written at that tempo) seconds."""

    tokens: list[str]
    bpm: float
    beats: float
    seconds: float


def check_notes(notes: list[list[float]]) -> list[tuple[int, float, float, int]]:
    """[[pitch, start s, end s, velocity?], ...] -> (pitch, start, end, velocity) from the
    first onset, checked: ConfigError naming what is wrong."""
    if not notes:
        raise ConfigError("phrase: no notes")
    if len(notes) > MAX_NOTES:
        raise ConfigError(f"phrase: at most {MAX_NOTES} notes, got {len(notes)}")
    out = []
    for n in notes:
        if len(n) not in (3, 4):
            raise ConfigError("phrase: each note is [pitch, start s, end s] or with velocity")
        pitch, start, end = int(n[0]), float(n[1]), float(n[2])
        velocity = int(n[3]) if len(n) == 4 else 90
        if not (0 <= pitch <= 127 and 0 <= start < end <= MAX_SECONDS and 1 <= velocity <= 127):
            raise ConfigError(
                f"phrase: note {list(n)[:4]} is out of range (pitch 0-127, 0 <= start < end "
                f"<= {MAX_SECONDS:g} s, velocity 1-127)"
            )
        out.append((pitch, start, end, velocity))
    first = min(n[1] for n in out)
    return sorted((p, s - first, e - first, v) for p, s, e, v in out)


def played_tempo(starts: list[float]) -> float:
    """The tempo (bpm) a phrase was played at: its typical gap between onsets taken as a beat,
    halved or doubled into TEMPO_RANGE (a run of eighths is read as a beat of two of them)."""
    chords: list[float] = []  # each chord's first onset
    for t in sorted(starts):
        if not chords or t - chords[-1] >= MIN_GAP:
            chords.append(t)
    gaps = [b - a for a, b in zip(chords, chords[1:], strict=False)]
    if not gaps:
        return DEFAULT_TEMPO
    bpm = 60.0 / statistics.median(gaps)
    while bpm < TEMPO_RANGE[0]:
        bpm *= 2
    while bpm > TEMPO_RANGE[1]:
        bpm /= 2
    return round(bpm, 1)


def phrase_score(notes: list[tuple[int, float, float, int]], bpm: float) -> Score:
    """The phrase as one piano track at `bpm`: seconds become beats."""
    beat = bpm / 60.0
    track = Track("phrase", 0, False, [s * beat for _, s, _, _ in notes],
                  [(e - s) * beat for _, s, e, _ in notes], [p for p, _, _, _ in notes],
                  [v for _, _, _, v in notes])  # fmt: skip
    return Score("phrase", [track], tempos=[[0.0, bpm]], fmt="midi")


def require_midi(tok: Tokenizer) -> None:
    """ConfigError unless `tok` reads MIDI files: a played phrase is MIDI."""
    if not any(p.lower() in ("*.mid", "*.midi") for p in tok.format.patterns):
        raise ConfigError("play-along needs a MIDI model (midi-notes, midi-tracks: bach-midi, "
                          "bach-satb)")  # fmt: skip


def phrase_primer(tok: Tokenizer, notes: list[list[float]]) -> Phrase:
    """`notes` played (seconds) as the primer of a MIDI model (`tok` reads .mid files)."""
    require_midi(tok)
    played = check_notes(notes)
    bpm = played_tempo([s for _, s, _, _ in played])
    tokens = read_upload(tok, ".mid", midi_bytes(phrase_score(played, bpm)))
    require_known(tok, tokens, "phrase: notes this model does not know")
    seconds = max(e for _, _, e, _ in played)
    return Phrase(tokens, bpm, seconds * bpm / 60.0, seconds)
