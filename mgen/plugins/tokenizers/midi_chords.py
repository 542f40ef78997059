"""`midi-chords`: MIDI as chord/pitch, duration and time-shift tokens on a beat grid (seed 004's
scheme, with rhythm). `midi-notes` is the note-level encoding; this one stays so seed 004's system
keeps its command.

A file is one piece: every non-drum note (optionally only piano programs 0-7) of every track,
onsets and durations quantized to `steps_per_beat` steps per quarter note. Notes whose onsets
fall on the same grid step form one event:

    tempo_<bpm>  then per event:  <pitches> d<steps> [t<steps> ...]

`<pitches>` is a MIDI pitch (`60`) or the sorted pitches of a chord joined by dots (`60.64.67`);
`d` is the event's duration (its longest note), `t` the gap to the next onset, split into
several `t` tokens when longer than `max_shift_steps`. The exact scheme is in
docs/tokenizers/midi-chords.md.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np

from mgen.core.contracts.errors import DataError
from mgen.core.contracts.io import atomic_path
from mgen.core.contracts.tokenizer import Tokenizer
from mgen.core.contracts.vocab import Vocab
from mgen.formats.midi.read import MidiData, load
from mgen.plugins.tokenizers.midi_base import MidiBase, MidiConfig
from mgen.plugins.tokenizers.midi_grammar import MidiChordsGrammar
from mgen.plugins.tokenizers.midi_transpose import TransposeMixin
from mgen.plugins.tokenizers.spans import MidiSpans

TEMPO_STEP = 10  # bpm between tempo tokens: tempo_60, tempo_70, ...
TEMPO_RANGE = (20, 300)
VELOCITY = 80  # velocities are not modelled; written notes all get this one
_PITCHES = re.compile(r"^\d{1,3}(\.\d{1,3})*$")
_STEPS = re.compile(r"^([dt])(\d+)$")
_TEMPO = re.compile(r"^tempo_(\d+)$")


@dataclasses.dataclass
class MidiChordsConfig(MidiConfig):
    # Tokens rarer than this in the training pieces become <unk>: mostly rare chords. 5 keeps
    # every pitch and rhythm a corpus really uses; seed 004's 50 dropped whole chord families.
    min_count: int = 5


@dataclasses.dataclass
class _Event:
    onset: int  # grid steps from the piece's first onset
    pitches: list[int]
    duration: int | None = None  # steps; None until a d token (or the next onset) sets it


class MidiChordsTokenizer(MidiSpans, MidiBase, TransposeMixin, Tokenizer):
    """MIDI: one token per chord + duration + time-shift tokens on a beat grid (seed 004's scheme)

    Notes and chords with duration and time-shift tokens on a beat grid."""

    version = "1"
    Config = MidiChordsConfig

    # -- reading ---------------------------------------------------------------------------
    def read(self, path: Path) -> list[list[str]]:
        midi = load(Path(path), self.config.reader, self.config.piano_only)
        notes = midi.notes[:, :3]  # [N, 3]: start tick, end tick, pitch
        if len(notes) == 0:
            raise DataError(f"no {'piano ' if self.config.piano_only else ''}notes")
        c = self.config
        steps = c.steps_per_beat / midi.ticks_per_beat  # grid steps per tick
        onset = np.rint(notes[:, 0] * steps).astype(np.int64)
        dur = np.clip(np.rint((notes[:, 1] - notes[:, 0]) * steps), 1, c.max_duration_steps)
        tokens = [f"tempo_{_quantize_tempo(_mean_tempo(midi, notes))}"]
        order = np.lexsort((notes[:, 2], onset))  # by onset, then pitch
        onset, dur, pitch = onset[order], dur[order].astype(np.int64), notes[order, 2]
        starts = np.flatnonzero(np.diff(onset, prepend=-1))  # first note of each onset group
        ends = [*starts[1:], len(onset)]
        for i, (a, b) in enumerate(zip(starts, ends, strict=True)):
            chord = sorted(set(pitch[a:b].tolist()))
            tokens += [".".join(map(str, chord)), f"d{int(dur[a:b].max())}"]
            if i + 1 < len(starts):
                tokens += self._shift_tokens(int(onset[b] - onset[a]))
        return [tokens]

    def _shift_tokens(self, gap: int) -> list[str]:
        cap = self.config.max_shift_steps
        return [f"t{cap}"] * (gap // cap) + ([f"t{gap % cap}"] if gap % cap else [])

    # -- writing ---------------------------------------------------------------------------
    def events(self, tokens: list[str]) -> tuple[float, list[_Event]]:
        """Tokens -> (tempo, events); malformed and special tokens are skipped."""
        tempo, now, events = None, 0, []
        for tok in tokens:
            if _PITCHES.match(tok):
                pitches = sorted({p for p in map(int, tok.split(".")) if p <= 127})
                if pitches:
                    events.append(_Event(now, pitches))
            elif m := _STEPS.match(tok):
                n = int(m.group(2))
                if m.group(1) == "t":
                    now += n
                elif events and n > 0:
                    events[-1].duration = n
            elif (m := _TEMPO.match(tok)) and tempo is None:
                tempo = min(max(int(m.group(1)), TEMPO_RANGE[0]), TEMPO_RANGE[1])
        for ev, nxt in zip(events, events[1:], strict=False):
            if ev.duration is None:  # no d token: hold until the next onset (legato)
                ev.duration = nxt.onset - ev.onset or None
        for ev in events:
            ev.duration = ev.duration or self.config.steps_per_beat  # else one beat
        return float(tempo or self.tempo), events

    def write(self, tokens: list[str], path: Path) -> Path:
        import pretty_midi

        tempo, events = self.events(tokens)
        if not events:
            raise DataError("the piece has no notes to write")
        spb = self.config.steps_per_beat
        # A resolution divisible by the grid puts every note exactly on a tick.
        pm = pretty_midi.PrettyMIDI(
            resolution=480 if 480 % spb == 0 else 120 * spb, initial_tempo=tempo
        )
        piano = pretty_midi.Instrument(program=0, name="mgen midi-chords")
        sec = 60.0 / tempo / spb  # seconds per grid step
        for ev in events:
            start, end = ev.onset * sec, (ev.onset + ev.duration) * sec
            piano.notes += [pretty_midi.Note(VELOCITY, p, start, end) for p in ev.pitches]
        pm.instruments.append(piano)
        path = Path(path).with_suffix(self.format.suffix)
        with atomic_path(path) as tmp:
            pm.write(str(tmp))
        return path

    def grammar(self, vocab: Vocab, num_samples: int) -> MidiChordsGrammar:
        """The grammar hook (mgen.core.contracts.grammar): only what the writer reads."""
        return MidiChordsGrammar(vocab, num_samples)

    def count_notes(self, tokens: list[str]) -> int:
        """Every pitch of every pitch or chord token."""
        return sum(t.count(".") + 1 for t in tokens if _PITCHES.match(t))

    def loop_neutral(self, token: str) -> bool:
        """Time shifts: a long rest repeats them (durations stay guarded: a `d` only ever
        follows a note, so a run of them is a loop, not music)."""
        return token.startswith("t") and bool(_STEPS.match(token))

    def melody(self, tokens: list[str]) -> list[int]:
        """The highest pitch of every pitch or chord token (one onset each)."""
        return [max(map(int, t.split("."))) for t in tokens if _PITCHES.match(t)]


def _mean_tempo(midi: MidiData, notes: np.ndarray) -> float:
    """Beats per minute over the notes' span: beats / minutes, across every tempo change."""
    t0, t1 = int(notes[:, 0].min()), int(notes[:, 1].max())
    changes = [(int(t), float(bpm)) for t, bpm in midi.tempos]
    beats = minutes = 0.0
    for i, (at, bpm) in enumerate(changes):
        until = changes[i + 1][0] if i + 1 < len(changes) else max(t1, at)
        lo, hi = max(at, t0), min(until, t1)
        if i == 0:
            lo = t0  # the first tempo also rules before its own event
        if hi > lo:
            b = (hi - lo) / midi.ticks_per_beat
            beats, minutes = beats + b, minutes + b / bpm
    return beats / minutes if minutes > 0 else changes[0][1]


def _quantize_tempo(bpm: float) -> int:
    q = int(round(bpm / TEMPO_STEP) * TEMPO_STEP)
    return min(max(q, TEMPO_RANGE[0]), TEMPO_RANGE[1])
