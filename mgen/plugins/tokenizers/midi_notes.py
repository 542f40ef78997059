"""MIDI as played, note by note, on a beat grid: pitch, duration and time-shift tokens.

A file is one piece: every non-drum note (optionally only piano programs 0-7) of every track,
quantized to `steps_per_beat` steps per quarter note. Every note is its own tokens; notes that
start on the same step (a chord) follow each other in ascending pitch, with no shift between:

    tempo_<bpm>  then per onset:  <pitch> [v<bin>] d<steps>  ...  t<steps> [t<steps> ...] [tempo_<bpm>]

`v` (velocity bins) only with `velocities=N`; a `tempo_` token after the shift where the tempo
moves by more than `tempo_change`. Every kind of token is a small closed set, so the vocabulary
is fixed by the settings (~200 tokens) and nothing a file holds reads as <unk>. A note held when
its pitch is struck again ends at the re-strike: reading a written file gives its tokens again.
The exact scheme is in docs/tokenizers/midi-notes.md.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from pathlib import Path

import numpy as np

from mgen.core.contracts.errors import DataError
from mgen.core.contracts.tokenizer import Tokenizer
from mgen.core.contracts.vocab import Vocab
from mgen.formats.midi.read import load
from mgen.formats.score import Score
from mgen.plugins.tokenizers.midi_base import MidiBase, MidiConfig, check_dynamics
from mgen.plugins.tokenizers.midi_grammar import MidiNotesGrammar
from mgen.plugins.tokenizers.midi_grid import (
    TEMPO_RANGE,
    TEMPO_STEP,
    VELOCITY,
    Grid,
    bin_velocity,
    distinct,
    grid_score,
    mark_tempo,
    normalize,
    quantize,
    velocity_bin,
    write_grid,
)
from mgen.plugins.tokenizers.midi_transpose import TransposeMixin
from mgen.plugins.tokenizers.spans import MidiSpans

_TOKEN = re.compile(r"^(?:(\d{1,3})|([dtv])(\d{1,4})|tempo_(\d{1,4}))$")
MAX_VELOCITIES = 32


@dataclasses.dataclass
class MidiNotesConfig(MidiConfig):
    velocities: int = 0  # velocity bins (a v token per note); 0: velocities are not modelled
    tempo_change: float = 0.2  # a tempo token where the tempo moves by more than this ratio

    def validate(self) -> None:
        super().validate()
        check_dynamics("midi-notes", self.velocities, MAX_VELOCITIES, self.tempo_change)


class MidiNotesTokenizer(MidiSpans, MidiBase, TransposeMixin, Tokenizer):
    """MIDI: one pitch + duration token per note, time shifts between onsets (Bach chorales by default)

    Every note on a beat grid is its pitch, duration (and velocity) tokens."""

    version = "2"
    Config = MidiNotesConfig

    def __init__(self, config: MidiNotesConfig | None = None):
        super().__init__(config)
        self.table = np.asarray(closed_vocabulary(self.config), dtype=object)

    # -- reading ---------------------------------------------------------------------------
    def read(self, path: Path) -> list[list[str]]:
        return [self.table[self.codes(self.grid(path))].tolist()]

    def grid(self, path: Path) -> Grid:
        """The file's notes on the grid (the quantized original), with its tempo marks;
        velocities as bins when `velocities` is on, else 0."""
        c = self.config
        midi = load(Path(path), c.reader, c.piano_only)
        if len(midi.notes) == 0:
            raise DataError(f"no {'piano ' if c.piano_only else ''}notes")
        grid, first = quantize(midi, c.steps_per_beat, c.max_duration_steps)
        mark_tempo(grid, midi, first, c.steps_per_beat, c.tempo_change)
        bins = velocity_bin(grid.velocity, c.velocities) if c.velocities else 0 * grid.velocity
        grid.velocity = bins
        return grid

    def codes(self, grid: Grid) -> np.ndarray:
        """The grid as indices into `closed_vocabulary`, built without a loop over notes."""
        c, k = self.config, 3 if self.config.velocities else 2  # tokens per note
        at = _Offsets(self.config)
        starts = np.flatnonzero(np.diff(grid.onset, prepend=-1))  # first note of each onset
        steps = grid.onset[starts]
        gaps = np.diff(steps, prepend=steps[0])
        full, rest = gaps // c.max_shift_steps, gaps % c.max_shift_steps
        tempo = np.zeros(len(steps), dtype=np.int64)
        marked = np.fromiter(grid.tempo, dtype=np.int64, count=len(grid.tempo))
        tempo[np.searchsorted(steps, marked)] = list(grid.tempo.values())
        pre = full + (rest > 0) + (tempo > 0)  # tokens before each onset's notes
        sizes = np.diff(np.r_[starts, len(grid)])
        begin = np.cumsum(pre + sizes * k) - (pre + sizes * k)  # each onset's first token
        out = np.empty(int((pre + sizes * k).sum()), dtype=np.int64)
        reps = np.repeat(np.arange(len(steps)), full)  # each full-bar shift token's onset
        out[begin[reps] + _rank(full)] = at.shift + c.max_shift_steps - 1
        out[(begin + full)[rest > 0]] = at.shift + rest[rest > 0] - 1
        has = tempo > 0
        out[(begin + pre - 1)[has]] = at.tempo + (tempo[has] - TEMPO_RANGE[0]) // TEMPO_STEP
        group = np.repeat(np.arange(len(steps)), sizes)
        note = begin[group] + pre[group] + _rank(sizes) * k
        out[note] = at.pitch + grid.pitch
        if c.velocities:
            out[note + 1] = at.velocity + grid.velocity
        out[note + k - 1] = at.duration + grid.duration - 1
        return out

    # -- vocabulary and state --------------------------------------------------------------
    def fit(self, counts: Counter[str]) -> None:
        """The vocabulary is every token the settings allow (`counts` only set the tempo
        written when a piece has no tempo token: the training pieces' median)."""
        self.vocab = Vocab(list(self.table))
        super().fit(counts)

    # -- writing ---------------------------------------------------------------------------
    def to_grid(self, tokens: list[str]) -> tuple[float, Grid]:
        """Tokens -> (tempo at the start, grid with later tempo marks); malformed and special
        tokens are skipped. A note with no `d` lasts until the next onset, else one beat."""
        c, now, notes, marks = self.config, 0, [], {}
        for tok in tokens:
            m = _TOKEN.match(tok)
            if m is None:
                continue
            pitch, kind, n, bpm = m.groups()
            if pitch is not None and int(pitch) <= 127:
                notes.append([now, 0, int(pitch), VELOCITY])
            elif kind == "t":
                now += int(n)
            elif kind == "d" and notes and int(n) > 0:
                notes[-1][1] = int(n)
            elif kind == "v" and notes and c.velocities:
                notes[-1][3] = bin_velocity(min(int(n), c.velocities - 1), c.velocities)
            elif bpm is not None:
                marks[now] = min(max(int(bpm), TEMPO_RANGE[0]), TEMPO_RANGE[1])
        arr = np.asarray(notes, dtype=np.int64).reshape(-1, 4)
        _legato(arr, c.steps_per_beat)
        grid = normalize(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])
        first = int(grid.onset[0]) if len(grid) else 0
        before = [s for s in marks if s <= first]
        tempo = float(marks[max(before)] if before else self.tempo)
        grid.tempo = {s: b for s, b in marks.items() if s > first}
        return tempo, grid

    def write(self, tokens: list[str], path: Path) -> Path:
        tempo, grid = self.to_grid(tokens)
        if not len(grid):
            raise DataError("the piece has no notes to write")
        path = Path(path).with_suffix(self.format.suffix)
        write_grid(grid, self.config.steps_per_beat, tempo, path, "mgen midi-notes")
        return path

    def score(self, tokens: list[str]) -> Score:
        """The live-notes hook (mgen.core.contracts.live): the notes `write` writes, in memory."""
        tempo, grid = self.to_grid(tokens)
        return grid_score(grid, self.config.steps_per_beat, tempo, "mgen midi-notes")

    # -- hooks -----------------------------------------------------------------------------
    def grammar(self, vocab: Vocab, num_samples: int) -> MidiNotesGrammar:
        """The grammar hook (mgen.core.contracts.grammar): only what the writer reads."""
        return MidiNotesGrammar(vocab, num_samples)

    def count_notes(self, tokens: list[str]) -> int:
        """Every pitch token is one note."""
        return sum(1 for t in tokens if t.isdigit())

    def loop_neutral(self, token: str) -> bool:
        """The longest time shift: a long rest repeats it. Shorter shifts stay guarded: `read`
        never writes one after another shift, so a run of them is a loop of empty onsets."""
        return token == f"t{self.config.max_shift_steps}"

    def melody(self, tokens: list[str]) -> list[int]:
        """The highest pitch of every onset: the last pitch before each time shift."""
        top, line = None, []
        for t in tokens:
            if t.isdigit():
                top = max(top or 0, int(t))
            elif t.startswith("t") and t[1:].isdigit() and int(t[1:]) > 0 and top is not None:
                line.append(top)
                top = None
        return line + ([top] if top is not None else [])


class _Offsets:
    """Where each kind of token starts in `closed_vocabulary`."""

    def __init__(self, c: MidiNotesConfig):
        self.pitch, self.velocity = 0, 128
        self.duration = self.velocity + c.velocities
        self.shift = self.duration + c.max_duration_steps
        self.tempo = self.shift + c.max_shift_steps


def closed_vocabulary(c: MidiNotesConfig) -> list[str]:
    """Every token the settings allow, in `_Offsets` order: pitches, velocity bins, durations,
    shifts, tempos."""
    return [
        *map(str, range(128)),
        *(f"v{b}" for b in range(c.velocities)),
        *(f"d{n}" for n in range(1, c.max_duration_steps + 1)),
        *(f"t{n}" for n in range(1, c.max_shift_steps + 1)),
        *(f"tempo_{b}" for b in range(TEMPO_RANGE[0], TEMPO_RANGE[1] + 1, TEMPO_STEP)),
    ]


def _rank(sizes: np.ndarray) -> np.ndarray:
    """0..size-1 for each size, concatenated."""
    total = int(sizes.sum())
    return np.arange(total) - np.repeat(np.cumsum(sizes) - sizes, sizes)


def _legato(notes: np.ndarray, steps_per_beat: int) -> None:
    """Notes with no duration (0) last until the next later onset, or one beat at the end."""
    onsets = distinct(notes[:, 0])
    nxt = np.searchsorted(onsets, notes[:, 0], side="right")
    later = np.r_[onsets, -1][nxt]
    gap = np.where(later >= 0, later - notes[:, 0], steps_per_beat)
    notes[:, 1] = np.where(notes[:, 1] > 0, notes[:, 1], gap)
