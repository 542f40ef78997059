"""Humdrum **kern melodies as pitch and duration tokens (or seed 003's time grid).

Every spine (music21 part) of a file is one melody. A melody is kept only when all its notated
note and rest durations are in `acceptable_durations`; it is then transposed so that its key
signature is empty (major keys to C major, minor keys to A minor) and encoded as events on a grid
of `time_step` quarter notes. Each event is the MIDI pitch number of a note, or `r` for a rest,
then (`encoding="durations"`) duration tokens such as `q1` (a quarter) that add up to its length,
or (`encoding="grid"`) a `_` for every further step it lasts; with `intervals` each pitch after
the first is preceded by its interval from the one before (`+12`). Tied notes are one held note;
consecutive rests merge into one; a chord contributes its top note; grace notes are left out. A
spine that holds several overlapping voices is dropped. A melody starts at its first note and
ends with its last (`trim_rests`): the rests before it (a voice of a score waiting for its entry,
a median 3 bars on Palestrina) and after it are left out.

The default duration filter is seed 003's set plus 6 and 8 quarters (see DEFAULT_DURATIONS).
Speed: each file is parsed once by music21 and flattened once per part; ties are merged while
encoding (no `stripTies`), transposition shifts MIDI numbers (no `Stream.transpose`), and key
analysis runs only for a part with neither a key record nor a key signature.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path
from typing import Any

from mgen.core.contracts.errors import ConfigError, DataError
from mgen.core.contracts.recipe import Recipe
from mgen.core.contracts.tokenizer import Tokenizer, TokenizerConfig
from mgen.core.contracts.vocab import Vocab
from mgen.formats.kern.format import KERN
from mgen.formats.kern.notes import check_records, parts
from mgen.formats.kern.text import (
    COMMON_TIME,
    REST,
    Events,
    Meter,
    bar_quarters,
    events_score,
    is_interval,
    kern_text,
    melody_meter,
    meter_of,
    meter_token,
    with_intervals,
)
from mgen.formats.score import Score
from mgen.plugins.tokenizers.kern_grammar import KernGrammar

HOLD = "_"
ENCODINGS = ("durations", "grid")
SEED_DURATIONS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)
#: The seed's set plus the dotted whole and the breve: with the seed's set alone, 6,147 of the
#: 6,321 Palestrina/Bach voices of the default dataset are dropped (breves, dotted wholes).
DEFAULT_DURATIONS = (*SEED_DURATIONS, 6.0, 8.0)


@dataclasses.dataclass
class KernConfig(TokenizerConfig):
    #: Quarter-length durations a melody may use; any other (triplets, ...) drops it.
    acceptable_durations: tuple[float, ...] = DEFAULT_DURATIONS
    time_step: float = 0.25  # grid step in quarter notes; 4 / time_step must be an integer
    transpose: bool = True  # to C major / A minor
    tempo_bpm: float = 120.0  # quarter notes per minute in written .krn and .mid files
    #: Drop the rests before the first note and after the last. Left in, 66% of Palestrina's
    #: voices open with rests (a median 3 bars) and greedy decoding writes only rests.
    trim_rests: bool = True
    #: How a melody becomes tokens. `durations`: each note or rest is its pitch (or `r`) and
    #: then duration tokens (`q2` = 2 quarters) that add up to its length, longest first, so a
    #: Palestrina note is about 2 tokens. `grid` (seed 003, mgen before 0.2): the pitch, then a
    #: `_` for every further time_step it lasts (about 13 tokens a note on Palestrina).
    encoding: str = "durations"
    #: Each note after the first also gets its interval from the note before (`+12`, `-2`,
    #: `+0`), just before its pitch: an octave leap is then one token shared by every pitch,
    #: not a different pitch pair each time (without it lstm2 leapt 0.7x as often as Palestrina).
    intervals: bool = True
    #: Each melody opens with its time signature as a token (`M4/2`: Palestrina's breve bars;
    #: the first one the voice states, else 4/4), which the writer notates. Without it every
    #: sample was written in 4/4, half a Palestrina bar, and `mgen eval`'s classifier told them
    #: from the corpus by their notes per bar alone (1.2 against 2.3).
    meter: bool = True

    def validate(self) -> None:
        super().validate()
        if self.encoding not in ENCODINGS:
            raise ConfigError(
                f"encoding must be one of {', '.join(ENCODINGS)}, got {self.encoding!r}"
            )
        numbers = (self.time_step, self.tempo_bpm, *self._durations())
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in numbers):
            raise ConfigError("time_step, tempo_bpm and acceptable_durations must be numbers")
        ratio = 4 / self.time_step if self.time_step > 0 else 0
        if not 1 <= ratio <= 128 or abs(ratio - round(ratio)) > 1e-9:
            raise ConfigError(
                f"time_step must be 4/k quarters for k in 1..128, got {self.time_step}"
            )
        if not self.acceptable_durations:
            raise ConfigError("acceptable_durations must not be empty")
        for d in self.acceptable_durations:
            steps = d / self.time_step
            if d <= 0 or abs(steps - round(steps)) > 1e-9:
                raise ConfigError(
                    f"acceptable duration {d} is not a positive multiple of time_step {self.time_step}"
                )
        if not self.tempo_bpm > 0:
            raise ConfigError(f"tempo_bpm must be > 0, got {self.tempo_bpm}")

    def _durations(self) -> tuple[float, ...]:
        if not isinstance(self.acceptable_durations, (tuple, list)):
            raise ConfigError(
                f"acceptable_durations must be a list of quarter lengths, "
                f"got {self.acceptable_durations!r}"
            )
        return tuple(self.acceptable_durations)


class _Rejected(Exception):
    """One melody that cannot be used (the file may still hold others)."""


# -- reading: music21 stream -> events -> tokens ----------------------------------------------


def _melody(flat, cfg: KernConfig, bar_steps: int = 0) -> Events:
    """Grid events of one flattened part; raises _Rejected for unusable melodies. `bar_steps`:
    with the meter token, the rests trimmed from the start leave the note's place in its bar
    (what is left of them after whole bars)."""
    ok = [float(d) for d in cfg.acceptable_durations]
    events: Events = []
    pos = 0  # grid steps written so far
    for el in flat.notesAndRests:
        if el.duration.isGrace:
            continue
        ql = float(el.quarterLength)
        if not any(abs(ql - d) < 1e-6 for d in ok):
            raise _Rejected(f"duration {ql:g} not in acceptable_durations")
        start = float(el.offset) / cfg.time_step
        if abs(start - round(start)) > 1e-6:
            raise _Rejected(f"onset {float(el.offset):g} is off the grid")
        start, steps = round(start), round(ql / cfg.time_step)
        if start < pos:
            raise _Rejected("overlapping notes (several voices in one spine)")
        if start > pos:
            _append(events, None, start - pos, tied=False)  # a gap is silence
        pitch = None if el.isRest else max(p.midi for p in el.pitches)  # chord: top note
        tied = el.tie is not None and el.tie.type in ("stop", "continue")
        _append(events, pitch, steps, tied)
        pos = start + steps
    if not any(p is not None for p, _ in events):
        raise _Rejected("no notes")
    if cfg.trim_rests:  # rests merge, so at most one at either end
        lead = events[0][1] % bar_steps if bar_steps and events[0][0] is None else 0
        events = events[events[0][0] is None : len(events) - (events[-1][0] is None)]
        events = [(None, lead), *events] if lead else events
    return events


def _append(events: Events, pitch: int | None, steps: int, tied: bool) -> None:
    """Add an event, merging rests into a preceding rest and tied notes into their start."""
    if events and events[-1][0] == pitch and (pitch is None or tied):
        events[-1] = (pitch, events[-1][1] + steps)
    else:
        events.append((pitch, steps))


def _meter(flat, cfg: KernConfig) -> Meter:
    """The first time signature the voice states, if its bars fall on the grid; else 4/4."""
    from music21 import meter

    found = next(iter(flat.getElementsByClass(meter.TimeSignature)), None)
    if found is None:
        return COMMON_TIME
    stated = (int(found.numerator), int(found.denominator))
    steps = bar_quarters(stated) / Fraction(cfg.time_step).limit_denominator(128)
    return stated if meter_of(meter_token(stated)) and steps.denominator == 1 else COMMON_TIME


def _key_shift(flat) -> int:
    """Semitones that take the melody's key to C major / A minor: the file's key designation
    (`*G:`), else its key signature (`*k[f#]`), else music21's key analysis."""
    from music21 import key

    sigs = list(flat.getElementsByClass(key.KeySignature))
    keys = [k for k in sigs if isinstance(k, key.Key)]
    found = keys[0] if keys else sigs[0] if sigs else flat.analyze("key")
    major_tonic = (7 * found.sharps) % 12  # pitch class of the signature's major key
    return (-major_tonic + 6) % 12 - 6  # the nearer way, in -6..5


def _tokens(events: Events, shift: int, cfg: KernConfig) -> list[str]:
    table = duration_steps(cfg)
    out: list[str] = []
    for pitch, steps in events:
        if pitch is not None and not 0 <= pitch + shift <= 127:
            raise _Rejected(f"pitch {pitch + shift} outside MIDI range after transposing")
        out.append(REST if pitch is None else str(pitch + shift))
        if cfg.encoding == "grid":
            out.extend([HOLD] * (steps - 1))
        else:
            out.extend(duration_token(n, cfg.time_step) for n in _greedy(steps, table))
    return with_intervals(out) if cfg.intervals else out


def duration_steps(cfg: KernConfig) -> list[int]:
    """Grid steps of the `durations` encoding's tokens, longest first: every acceptable
    duration, and one step so that any length can be written."""
    return sorted({round(d / cfg.time_step) for d in cfg.acceptable_durations} | {1}, reverse=True)


def duration_token(steps: int, time_step: float) -> str:
    return f"q{steps * time_step:g}"


def duration_of(token: str, time_step: float) -> int | None:
    """Grid steps of a duration token (`q1.5`), or None for any other token."""
    if not token.startswith("q"):
        return None
    try:
        steps = float(token[1:]) / time_step
    except ValueError:
        return None
    whole = round(steps)
    return whole if whole > 0 and abs(steps - whole) < 1e-3 else None  # q0.333333: 6 digits


def _greedy(steps: int, table: list[int]) -> list[int]:
    """A length in grid steps as duration-token steps, longest first (the table ends in 1)."""
    out = []
    for n in table:
        count, steps = divmod(steps, n)
        out.extend([n] * count)
    return out


# -- writing: tokens -> events -> **kern text -----------------------------------------------


def events_from_tokens(tokens: list[str], cfg: KernConfig) -> Events:
    """Robust decoding of generated tokens in either encoding: `<...>`, unknown tokens and a
    `_` or duration with nothing to lengthen are skipped, and so is a note or rest left with no
    length (a pitch followed by another in `durations`)."""
    opened = 1 if cfg.encoding == "grid" else 0  # a grid pitch token is its note's first step
    events: Events = []
    for t in tokens:
        more = 1 if t == HOLD else duration_of(t, cfg.time_step)
        if more is not None:
            if events:
                events[-1] = (events[-1][0], events[-1][1] + more)
        elif t == REST:
            _append(events, None, opened, tied=False)
        elif t.isdigit() and int(t) <= 127:
            events.append((int(t), opened))
    return [(pitch, steps) for pitch, steps in events if steps > 0]


class KernTokenizer(Tokenizer):
    """**kern melodies as pitch and duration tokens, transposed to C major / A minor (music21's Palestrina and Bach **kern by default)

    Each note is its MIDI pitch or `r`, then its duration tokens (or `_` holds)."""

    version = "4"  # 2: trim_rests; 3: encoding (durations by default), intervals; 4: meter
    Config = KernConfig
    format = KERN
    # Seconds of training when no length is given: 10 minutes, not 5. At 600 CPU-s the samples'
    # voice range came within 1.2x Palestrina's (1.16x, 1.18x; at 300 CPU-s 1.25x, 1.26x).
    # Each voice from the empty state, as sampling starts it: carried across voices (lanes) the
    # model began a quarter of its samples with stray pitches. Windows of 63, not 64: 64 grid
    # steps are 4 bars, so windows aligned to a voice's start would always cut it at the same
    # beat (0.305 against lanes' 0.256 nats/token; with 63, 0.286 against 0.283; docs/training.md).
    recipe = Recipe(
        dataset="palestrina-kern", time_budget=600.0, batching="piece-lanes", seq_len=63
    )

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> Tokenizer:
        """Runs written before `encoding` and `intervals` existed (tokenizer version 2) used the
        grid without intervals; those before `meter` (version 3), no meter token."""
        config = state.get("config")
        if isinstance(config, dict):
            old = {"encoding": "grid", "intervals": False, "meter": False}
            state = {**state, "config": {**old, **config}}
        return super().from_state_dict(state)

    def read(self, path: Path) -> list[list[str]]:
        from mgen.formats.m21 import parse

        check_records(Path(path))
        pieces, reasons = [], []
        for part in parts(parse(Path(path), "humdrum")):
            flat = part.flatten()
            try:
                piece = self._piece(flat)
            except _Rejected as e:
                reasons.append(str(e))
            else:
                pieces.append(piece)
        if not pieces:
            why = "; ".join(sorted(set(reasons))) or "no **kern spine"
            raise DataError(f"no usable melody ({why})")
        return pieces

    def _piece(self, flat) -> list[str]:
        """One voice's tokens: its meter (with `meter`), then its notes, moved to C/Am."""
        cfg = self.config
        stated = _meter(flat, cfg) if cfg.meter else None
        bar = (
            round(bar_quarters(stated) / Fraction(cfg.time_step).limit_denominator(128))
            if stated
            else 0
        )
        events = _melody(flat, cfg, bar)
        shift = _key_shift(flat) if cfg.transpose else 0
        return ([meter_token(stated)] if stated else []) + _tokens(events, shift, cfg)

    def count_notes(self, tokens: list[str]) -> int:
        """Note onsets: the MIDI pitch tokens (holds and rests are not notes)."""
        return sum(t.isdigit() for t in tokens)

    def loop_neutral(self, token: str) -> bool:
        """A hold or a duration: repeating it is how a long note or rest is written."""
        return token == HOLD or duration_of(token, self.config.time_step) is not None

    def grammar(self, vocab: Vocab, num_samples: int) -> KernGrammar:
        """The grammar hook (mgen.core.contracts.grammar): only melodies the writer writes whole."""
        c, grid = self.config, self.config.encoding == "grid"
        steps = {t for t in vocab.tokens if duration_of(t, c.time_step) is not None}
        lengths = {HOLD} if grid else steps
        return KernGrammar(vocab, num_samples, grid, c.intervals, lengths)

    def parse_primer(self, text: str) -> list[str]:
        """Pitches, rests and lengths in the run's encoding; the tokenizer adds the intervals."""
        tokens = text.replace("\\n", " ").split()  # a typed `\n` separates like a newline
        grid = self.config.encoding == "grid"
        allowed = "'r' or '_'" if grid else "'r' or a duration such as q1 (a quarter)"
        for t in tokens:
            length = t == HOLD if grid else duration_of(t, self.config.time_step) is not None
            ok = length or t == REST or is_interval(t) or (t.isdigit() and int(t) <= 127)
            if not (ok or (self.config.meter and meter_of(t))):
                raise ConfigError(f"primer token {t!r} is not a MIDI pitch 0-127, {allowed}")
        if self.config.intervals:
            return with_intervals(tokens)
        return [t for t in tokens if not is_interval(t)]

    def text(self, tokens: list[str]) -> str:
        cfg = self.config
        events = events_from_tokens(tokens, cfg)
        return kern_text(events, cfg.time_step, cfg.tempo_bpm, melody_meter(tokens))

    def score(self, tokens: list[str]) -> Score:
        """The live-notes hook (mgen.core.contracts.live): the melody `write` writes, in memory."""
        cfg = self.config
        events = events_from_tokens(tokens, cfg)
        return events_score(events, cfg.time_step, cfg.tempo_bpm, meter=melody_meter(tokens))

    def write(self, tokens: list[str], path: Path) -> Path:
        from mgen.core.contracts.io import write_text

        return write_text(Path(path).with_suffix(self.format.suffix), self.text(tokens))

    def attributes(self, tokens: list[str]) -> dict[str, str]:
        """The controls hook (mgen.core.contracts.controls): a melody's tokens say nothing
        beyond what every tokenizer's do (its key, length and collection: moved to C major or
        A minor, its key is its mode)."""
        del tokens
        return {}

    span_unit = "bar"

    def spans(self, tokens: list[str]) -> list[tuple[int, int]]:
        """The infill hook (mgen.core.contracts.infill): the bars the writer writes (in the
        melody's meter), each from its first onset (a note tied over a bar line belongs to the
        bar it starts in)."""
        from mgen.plugins.tokenizers.spans import onset_spans

        step = self.config.time_step
        if self.config.encoding == "grid":
            steps = lambda t: 1 if t in (HOLD, REST) or t.isdigit() else None  # noqa: E731
        else:
            steps = lambda t: duration_of(t, step)  # noqa: E731
        onset = lambda t: t == REST or t.isdigit() or is_interval(t)  # noqa: E731
        bar = round(bar_quarters(melody_meter(tokens)) / Fraction(step).limit_denominator(128))
        return onset_spans(tokens, steps, onset, bar, own=lambda t: True)

    def melody(self, tokens: list[str]) -> list[int]:
        """The pitch tokens: one note onset each (holds and rests are not onsets)."""
        return [int(t) for t in tokens if t.isdigit()]
