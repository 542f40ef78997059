"""midi-tracks' view of a score: its tracks' notes on the beat grid, with the meter and tempo
maps the tokens carry (`Layout`), made from the one MIDI reader's `Score` and written back as
a `Score` for the one MIDI writer.

The rules that make reading a written file give the same tokens again:
- each track's notes follow midi-notes' grid rules (`midi_grid.normalize`): onset and length
  rounded to the grid, one note per pitch and onset, a held note ends where its pitch is struck
  again, lengths 1..max_duration steps; a drum hit has no length (written one step long);
- a meter change takes effect at a bar line: one stated inside a bar starts at the next one; a
  meter with no whole number of steps in its bar, or longer than MAX_BAR_BEATS, is not kept;
- the piece starts at the bar line at or before its first note (leading empty bars dropped);
- tempo is marked as midi-notes marks it (`midi_grid.mark_tempo`);
- at most `max_tracks` tracks: beyond that a track joins an earlier one of the same program
  (drums with drums), else the track with the fewest notes is left out.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np

from mgen.formats.midi import gm
from mgen.formats.midi.read import MidiData
from mgen.formats.score import Score, Track
from mgen.plugins.tokenizers.midi_grid import (
    Grid,
    bin_velocity,
    mark_tempo,
    normalize,
    velocity_bin,
)

MAX_BAR_BEATS = 16  # the longest bar kept (16/4, 32/8): positions of one bar fit its tokens
MAX_NUMERATOR = 16
DENOMINATORS = (1, 2, 4, 8, 16)
DRUM_STEPS = 1  # how long a drum hit is written, in steps


@dataclasses.dataclass
class Layout:
    """Tracks of notes on the grid, sorted by (onset, track, pitch), and the maps in steps."""

    tracks: list[tuple[int, bool]]  # (program, is_drum) of each track, in order
    onset: np.ndarray  # [N] int64 steps from the piece's first bar line
    track: np.ndarray  # [N] int64 index into `tracks`
    pitch: np.ndarray  # [N] int64 (a drum's note number on a drum track)
    duration: np.ndarray  # [N] int64 steps (0 on a drum track)
    velocity: np.ndarray  # [N] int64 bin (0 when velocities are off)
    tempo: dict[int, int]  # step -> bpm; the first mark (at the first onset) opens the piece
    meters: list[tuple[int, int, int]]  # (step, numerator, denominator), each at a bar line

    def __len__(self) -> int:
        return len(self.pitch)


def bar_steps(num: int, den: int, steps_per_beat: int) -> float:
    """Steps in a bar of num/den (a float: not every meter fills whole steps)."""
    return num * 4 * steps_per_beat / den


def meter_allowed(num: int, den: int, steps_per_beat: int) -> bool:
    """Whether midi-tracks keeps a meter: a whole number of steps per bar, at most MAX_BAR_BEATS."""
    if not (1 <= num <= MAX_NUMERATOR and den in DENOMINATORS):
        return False
    steps = bar_steps(num, den, steps_per_beat)
    return steps == int(steps) and 1 <= steps <= MAX_BAR_BEATS * steps_per_beat


def meter_changes(meters: np.ndarray, steps_per_beat: int) -> list[tuple[int, int, int]]:
    """A score's [K, 3] (beat, num, den) map as kept: changes at bar lines, each a change."""
    out: list[tuple[int, int, int]] = []
    for beat, num, den in np.asarray(meters).reshape(-1, 3).tolist():
        num, den = int(num), int(den)
        if not meter_allowed(num, den, steps_per_beat):
            continue
        start, length = _bar(out, steps_per_beat)
        step = max(int(round(beat * steps_per_beat)), 0)
        step = start + -(-(step - start) // length) * length if step > start else start
        if out and out[-1][0] == step:
            out.pop()  # the last change stated at one bar line rules it
        if not out or out[-1][1:] != (num, den):
            out.append((step, num, den))
    return out


def _bar(changes: list[tuple[int, int, int]], steps_per_beat: int) -> tuple[int, int]:
    """(first step, steps per bar) of the last change in `changes` (4/4 from 0 without one)."""
    if not changes:
        return 0, 4 * steps_per_beat
    step, num, den = changes[-1]
    return step, int(bar_steps(num, den, steps_per_beat))


def bar_line(changes: list[tuple[int, int, int]], step: int, steps_per_beat: int) -> int:
    """The bar line at or before `step`."""
    start, length = _bar([c for c in changes if c[0] <= step], steps_per_beat)
    return start + (step - start) // length * length


# -- a score -> its layout ---------------------------------------------------------------------


def fit_tracks(tracks: list[Track], most: int) -> list[Track]:
    """At most `most` tracks: a later track joins the first of its program (drums with drums),
    from the last one back; then the tracks with the fewest notes are left out."""
    tracks = list(tracks)
    while len(tracks) > most:
        kinds = [(t.program, t.is_drum) for t in tracks]
        again = [i for i in range(len(tracks)) if kinds[i] in kinds[:i]]
        if not again:
            fewest = min(range(len(tracks)), key=lambda i: (len(tracks[i]), -i))
            del tracks[fewest]
            continue
        late = tracks.pop(again[-1])
        first = kinds.index(kinds[again[-1]])
        keep = tracks[first]
        cols = [np.r_[getattr(keep, c), getattr(late, c)] for c in
                ("onset", "duration", "pitch", "velocity")]  # fmt: skip
        tracks[first] = Track(keep.name, keep.program, keep.is_drum, *cols)
    return tracks


def on_grid(on, length, track, pitch, velocity, drums: np.ndarray, max_duration: int):
    """Notes of many tracks by the grid rules (`normalize`) at once, a note's track kept in its
    pitch (track * 128 + pitch): (onset, track, pitch, duration, velocity) sorted by (onset,
    track, pitch); a drum track's durations are 0."""
    g = normalize(on, length, np.asarray(track) * 128 + pitch, velocity, max_duration)
    which = g.pitch // 128
    return g.onset, which, g.pitch % 128, np.where(drums[which], 0, g.duration), g.velocity


def layout_of(score: Score, tracks: list[Track], spb: int, max_duration: int,
              tempo_change: float, bins: int) -> Layout:  # fmt: skip
    """`tracks` of `score` (each with notes) on the grid, from the bar line before the first;
    velocities in `bins` bins (all 0 when `bins` is 0). Onsets and ends are rounded from the
    file's ticks (exact integer arithmetic)."""
    res = score.resolution
    onset, duration, pitch, velocity = (np.concatenate([getattr(t, c) for t in tracks])
                                        for c in ("onset", "duration", "pitch", "velocity"))  # fmt: skip
    which = np.repeat(np.arange(len(tracks)), [len(t) for t in tracks])
    drums = np.array([t.is_drum for t in tracks])
    start = np.rint(onset * res).astype(np.int64)
    end = np.rint((onset + duration) * res).astype(np.int64)
    on = np.rint(start * spb / res).astype(np.int64)
    length = np.where(drums[which], DRUM_STEPS, np.rint(end * spb / res).astype(np.int64) - on)
    on, which, pitch, duration, velocity = on_grid(on, length, which, pitch, velocity, drums,
                                                   max_duration)  # fmt: skip
    changes = meter_changes(score.meters, spb)
    origin = bar_line(changes, int(on[0]), spb)
    first = Grid(on - origin, duration, pitch, velocity)
    midi = MidiData.of(Score("", [], tempos=score.tempos, resolution=res))
    mark_tempo(first, midi, origin, spb, tempo_change)
    return Layout(
        tracks=[(int(t.program), bool(t.is_drum)) for t in tracks],
        onset=first.onset, track=which, pitch=pitch, duration=duration,
        velocity=velocity_bin(velocity, bins) if bins else 0 * velocity, tempo=first.tempo,
        meters=_from(changes, origin),
    )  # fmt: skip


def _from(changes: list[tuple[int, int, int]], origin: int) -> list[tuple[int, int, int]]:
    """The changes as seen from `origin` (a bar line): the one in force there moves to 0."""
    before = [c for c in changes if c[0] <= origin]
    later = [(s - origin, n, d) for s, n, d in changes if s > origin]
    return ([(0, *before[-1][1:])] if before else []) + later


# -- a layout -> a score -----------------------------------------------------------------------


def track_names(tracks: list[tuple[int, bool]]) -> list[str]:
    """What each written track is called: its General MIDI name, numbered where several share
    it ("Violin 1", "Violin 2"); four choir tracks are Soprano, Alto, Tenor and Bass."""
    base = ["Drums" if drum else gm.program_name(p) for p, drum in tracks]
    if base.count("Choir Aahs") == 4 and len(base) == 4:
        return ["Soprano", "Alto", "Tenor", "Bass"]
    total, seen = Counter(base), Counter()
    names = []
    for name in base:
        seen[name] += 1
        names.append(f"{name} {seen[name]}" if total[name] > 1 else name)
    return names


def score_of(layout: Layout, spb: int, bins: int, velocity: int, name: str) -> Score:
    """The layout as a score: one named track per layout track with its program and drum flag,
    the header tempo at beat 0 and the later marks, the meter changes."""
    out = []
    for i, ((program, drum), label) in enumerate(
        zip(layout.tracks, track_names(layout.tracks), strict=True)
    ):
        mine = layout.track == i
        steps = np.where(drum, DRUM_STEPS, layout.duration[mine])
        vel = [bin_velocity(int(b), bins) for b in layout.velocity[mine]] if bins else velocity
        vel = np.broadcast_to(np.asarray(vel, dtype=np.int64), steps.shape)
        out.append(Track(label, program, drum, layout.onset[mine] / spb, steps / spb,
                         layout.pitch[mine], vel))  # fmt: skip
    marks = sorted(layout.tempo.items())
    tempos = [[0.0, float(marks[0][1])]] + [[s / spb, float(b)] for s, b in marks[1:]]
    meters = [[s / spb, float(n), float(d)] for s, n, d in layout.meters]
    return Score(name, out, tempos=tempos, meters=meters, fmt="midi")
