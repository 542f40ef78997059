"""Notes on a beat grid, for `midi-notes`: quantizing, the one-note-per-pitch rule, tempo marks,
velocity bins and writing the grid back as a MIDI file.

A `Grid` is the tokenizer's token-level form, not a note form of its own: steps of its grid
(not beats), one note per pitch and step, and the tempo marks its tokens carry. It is made from
the `Score` the one MIDI reader gives (in the file's ticks, `MidiData`) and written as a
`Score` (`grid_score`) by the one MIDI writer.

The rules make reading the written file give the same grid again (docs/tokenizers/midi-notes.md):
- a note's onset step is its rounded onset, its length the rounded end minus that (at least 1,
  at most `max_duration` steps);
- one note per pitch and onset step (the longest, then the loudest), and a note still held when
  its pitch is struck again ends at the re-strike: no two notes of one pitch ever overlap;
- the tempo is marked at the first onset and wherever it moves by more than `change` (a ratio)
  from the tempo marked last, at the mean tempo of the stretch it rules.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from mgen.formats.midi.read import MidiData
from mgen.formats.midi.write import write_midi
from mgen.formats.score import Score, Track

TEMPO_STEP = 10  # bpm between tempo tokens: tempo_60, tempo_70, ...
TEMPO_RANGE = (20, 300)
VELOCITY = 80  # written velocity when velocities are not modelled


@dataclasses.dataclass
class Grid:
    """Notes on the grid, one per (pitch, onset), sorted by (onset, pitch)."""

    onset: np.ndarray  # [N] int64 steps
    duration: np.ndarray  # [N] int64 steps, >= 1
    pitch: np.ndarray  # [N] int64
    velocity: np.ndarray  # [N] int64 MIDI velocity
    tempo: dict[int, int] = dataclasses.field(default_factory=dict)  # step -> bpm marks

    def __len__(self) -> int:
        return len(self.pitch)

    def notes(self) -> set[tuple[int, int, int, int]]:
        """(onset, pitch, duration, velocity) of every note."""
        cols = (self.onset, self.pitch, self.duration, self.velocity)
        return set(zip(*(c.tolist() for c in cols), strict=True))


def normalize(onset, duration, pitch, velocity, max_duration: int | None = None) -> Grid:
    """One note per (pitch, onset): the longest, then the loudest; a held note ends where its
    pitch is struck again; lengths at least 1 (at most `max_duration`); sorted by onset, pitch."""
    on, dur, p, vel = (np.asarray(a, dtype=np.int64).reshape(-1) for a in
                       (onset, duration, pitch, velocity))  # fmt: skip
    if not len(on):
        return Grid(on, dur, p, vel)
    order = _by_pitch_onset(on, dur, p, vel)
    on, dur, p, vel = on[order], np.maximum(dur[order], 1), p[order], vel[order]
    first = np.r_[True, (p[1:] != p[:-1]) | (on[1:] != on[:-1])]
    on, dur, p, vel = on[first], dur[first], p[first], vel[first]
    same = np.r_[p[1:] == p[:-1], False]  # the next note is this pitch struck again
    gap = np.r_[on[1:] - on[:-1], 0]
    dur = np.where(same, np.minimum(dur, gap), dur)
    if max_duration is not None:
        dur = np.minimum(dur, max_duration)
    order = np.lexsort((p, on))
    return Grid(on[order], dur[order], p[order], vel[order])


def _by_pitch_onset(on: np.ndarray, dur: np.ndarray, p: np.ndarray, vel: np.ndarray):
    """The order by pitch, onset, then longest and loudest first: one sort of a packed key
    (5x faster than lexsort) when onsets fit in 33 bits."""
    if len(on) and (on.min() < 0 or on.max() >= 2**33 or p.min() < 0 or p.max() > 127):
        return np.lexsort((-vel, -dur, on, p))
    d = 65535 - np.clip(dur, 0, 65535)
    v = 127 - np.clip(vel, 0, 127)
    return np.argsort((p << 56) | (on << 23) | (d << 7) | v, kind="stable")


def quantize(midi: MidiData, steps_per_beat: int, max_duration: int) -> tuple[Grid, np.ndarray]:
    """The file's notes on the grid, from its first onset; and the first onset's absolute step."""
    scale = steps_per_beat / midi.ticks_per_beat
    start = np.rint(midi.notes[:, 0] * scale).astype(np.int64)
    end = np.rint(midi.notes[:, 1] * scale).astype(np.int64)
    grid = normalize(start, end - start, midi.notes[:, 2], midi.notes[:, 3], max_duration)
    first = grid.onset[0] if len(grid) else 0
    grid.onset = grid.onset - first
    return grid, first


def distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of a 1-D array: `np.unique` without its first call's import of
    numpy.ma (0.1 s in every parsing process, a quarter of parsing piano-midi on 2 cores)."""
    s = np.sort(values)
    return s[np.r_[True, s[1:] != s[:-1]]] if len(s) else s


def mark_tempo(grid: Grid, midi: MidiData, first: int, steps_per_beat: int, change: float) -> None:
    """Set `grid.tempo`: a mark at the first onset, and one where the tempo moves by more than
    `change` (0.2: 20%) from the last mark; each at the mean tempo of the stretch it rules."""
    steps = distinct(grid.onset)
    ticks = (steps + first) * (midi.ticks_per_beat / steps_per_beat)
    bpm = midi.tempo_at(ticks)
    weight = np.diff(steps, append=steps[-1] + 1).astype(np.float64)  # steps until the next
    starts = _stretches(bpm, change)
    while True:  # merge neighbours whose rounded means are not far apart, until none are
        marks = _means(bpm, weight, starts)
        keep = [0] + [k for k in range(1, len(starts)) if _far(marks[k - 1], marks[k], change)]
        if len(keep) == len(starts):
            break
        starts = [starts[k] for k in keep]
    grid.tempo = {int(steps[s]): m for s, m in zip(starts, marks, strict=True)}


def _stretches(bpm: np.ndarray, change: float) -> list[int]:
    """Indices where a new stretch begins: the tempo is far from the running mean of the last."""
    k = 1 + change
    if bpm.max() <= bpm.min() * k:
        return [0]
    starts, ref, n = [0], float(bpm[0]), 1
    for i, v in enumerate(bpm.tolist()[1:], 1):
        if v > ref * k or ref > v * k:
            starts.append(i)
            ref, n = v, 1
        else:
            n += 1
            ref += (v - ref) / n
    return starts


def _means(bpm: np.ndarray, weight: np.ndarray, starts: list[int]) -> list[int]:
    """Each stretch's tempo: beats over minutes (a harmonic mean), rounded to a tempo token."""
    beats = np.add.reduceat(weight, starts)
    minutes = np.add.reduceat(weight / bpm, starts)
    return quantize_tempo(beats / minutes).tolist()


def _far(a: float, b: float, change: float) -> bool:
    return max(a, b) > min(a, b) * (1 + change)


def quantize_tempo(bpm: np.ndarray | float) -> np.ndarray:
    """bpm -> the nearest tempo token's bpm (multiples of TEMPO_STEP within TEMPO_RANGE)."""
    q = np.rint(np.asarray(bpm, dtype=np.float64) / TEMPO_STEP) * TEMPO_STEP
    return np.clip(q, *TEMPO_RANGE).astype(np.int64)


def velocity_bin(velocity: np.ndarray, bins: int) -> np.ndarray:
    """MIDI velocities 1..127 -> bins 0..bins-1 of equal width."""
    v = np.clip(np.asarray(velocity, dtype=np.int64), 1, 127)
    return np.minimum((v - 1) * bins // 127, bins - 1)


def bin_velocity(b: int, bins: int) -> int:
    """The velocity written for bin `b`: the middle of its range (it bins back to `b`)."""
    lo = -(-b * 127 // bins) + 1  # the smallest velocity in bin b
    hi = -(-(b + 1) * 127 // bins)  # the largest
    return (lo + hi) // 2


def resolution(steps_per_beat: int) -> int:
    """Ticks per beat of written files: a multiple of the grid, so every note lies on a tick."""
    return 480 if 480 % steps_per_beat == 0 else 120 * steps_per_beat


def grid_score(grid: Grid, steps_per_beat: int, tempo: float, name: str) -> Score:
    """One piano track (program 0) at `tempo` bpm from beat 0 and `grid.tempo`'s later marks."""
    spb = float(steps_per_beat)
    track = Track(name, 0, False, grid.onset / spb, grid.duration / spb, grid.pitch, grid.velocity)
    marks = [[step / spb, float(bpm)] for step, bpm in sorted(grid.tempo.items()) if step > 0]
    return Score(name, [track], tempos=[[0.0, float(tempo)], *marks], fmt="midi")


def write_grid(grid: Grid, steps_per_beat: int, tempo: float, path: Path, name: str) -> None:
    """The grid as a MIDI file at a resolution where every step is a whole tick (`grid_score`)."""
    write_midi(grid_score(grid, steps_per_beat, tempo, name), path, resolution(steps_per_beat))
