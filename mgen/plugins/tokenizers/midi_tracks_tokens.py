"""midi-tracks' tokens: a `Layout` as tokens (`encode`), tokens as a `Layout` (`decode`), and
every token the settings allow (`vocabulary`). The scheme is in docs/tokenizers/midi-tracks.md:

    header:  tracks_<n>  inst_<program>|inst_drums (n of them)  tempo_<bpm>  [meter_<num>/<den>]
    time:    t<steps> ...                       (timing=shifts, the default)
             bar [meter_<num>/<den>]  pos<step>  (timing=bars: REMI's bar and position)
    a note:  [tr<track>] [v<bin>] [i<+-semitones>] <pitch> d<steps>
    a drum hit: [tr<track>] [v<bin>] k<note>

At each onset the notes come by track, then pitch. With `intervals`, a pitched note after its
track's first is announced by its interval from the track's note before (`i+2`, `i-5`, `i+0`);
reading takes the pitch token alone (the grammar makes the two agree).
`tr` comes only where the track differs
from the last note's, `v` only where the track's velocity bin differs from its last note's;
`tempo_` and `meter_` only where the tempo or meter changes.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from typing import Any

import numpy as np

from mgen.plugins.tokenizers.midi_grid import (
    TEMPO_RANGE,
    TEMPO_STEP,
    VELOCITY,
    distinct,
)
from mgen.plugins.tokenizers.midi_tracks_layout import (
    DENOMINATORS,
    DRUM_STEPS,
    MAX_BAR_BEATS,
    MAX_NUMERATOR,
    Layout,
    bar_steps,
    meter_allowed,
    on_grid,
)

DRUMS = "drums"
_TOKEN = re.compile(r"^(?:(?P<pitch>\d{1,3})|k(?P<drum>\d{1,3})|d(?P<dur>\d{1,4})"
                    r"|t(?P<shift>\d{1,4})|tr(?P<track>\d{1,3})|v(?P<vel>\d{1,3})"
                    r"|pos(?P<pos>\d{1,4})|(?P<bar>bar)|tempo_(?P<tempo>\d{1,4})"
                    r"|meter_(?P<meter>\d{1,2}/\d{1,2})|inst_(?P<inst>\d{1,3}|drums)"
                    r"|tracks_(?P<count>\d{1,3})|i(?P<interval>[+-]\d{1,3}))$")  # fmt: skip


@functools.lru_cache(maxsize=4096)
def parse(token: str) -> tuple[str, Any] | None:
    """(kind, value) of a token; None for one that is not midi-tracks'. A meter's value is
    (num, den); a drum kit's program is -1."""
    m = _TOKEN.match(token)
    if m is None:
        return None
    kind, text = next((k, v) for k, v in m.groupdict().items() if v is not None)
    if kind == "meter":
        num, den = text.split("/")
        return kind, (int(num), int(den))
    if kind == "inst":
        return kind, -1 if text == DRUMS else int(text)
    return kind, 0 if kind == "bar" else int(text)


def vocabulary(c: Any) -> list[str]:
    """Every token the settings allow: the header's, time's (shifts or bars), the notes'."""
    bars = c.timing == "bars"
    positions = MAX_BAR_BEATS * c.steps_per_beat
    meters = [f"meter_{n}/{d}" for d in DENOMINATORS for n in range(1, MAX_NUMERATOR + 1)
              if meter_allowed(n, d, c.steps_per_beat)]  # fmt: skip
    return [
        *(f"tracks_{n}" for n in range(1, c.max_tracks + 1)),
        *(f"inst_{p}" for p in range(128)), f"inst_{DRUMS}",
        *(f"tempo_{b}" for b in range(TEMPO_RANGE[0], TEMPO_RANGE[1] + 1, TEMPO_STEP)),
        *meters,
        *(["bar", *(f"pos{k}" for k in range(positions))] if bars else []),
        *([] if bars else (f"t{n}" for n in range(1, c.max_shift_steps + 1))),
        *(f"tr{i}" for i in range(c.max_tracks)),
        *(f"v{b}" for b in range(c.velocities)),
        *map(str, range(128)),
        *(f"k{p}" for p in range(128)),
        *((f"i{n:+d}" for n in range(-127, 128)) if c.intervals else ()),
        *(f"d{n}" for n in range(1, c.max_duration_steps + 1)),
    ]  # fmt: skip


# -- a layout -> tokens ------------------------------------------------------------------------


def encode(layout: Layout, c: Any) -> list[str]:
    """The layout's tokens: its header, then each onset's time, tempo and notes."""
    first = min(layout.tempo)
    out = [f"tracks_{len(layout.tracks)}",
           *(f"inst_{DRUMS}" if drum else f"inst_{p}" for p, drum in layout.tracks),
           f"tempo_{layout.tempo[first]}"]  # fmt: skip
    opening = [m for m in layout.meters if m[0] == 0]
    out += [f"meter_{n}/{d}" for _, n, d in opening]
    clock = (Bars if c.timing == "bars" else Shifts)(layout.meters, c)
    later = [s for s, _, _ in layout.meters if s > 0]
    steps = distinct(np.r_[layout.onset, later].astype(np.int64))
    bounds = np.searchsorted(layout.onset, np.r_[steps, steps[-1] + 1])
    notes = _Notes(layout, c.velocities > 0, c.intervals)
    for step, a, b in zip(steps.tolist(), bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        clock.to(step, b > a, out)
        if step in layout.tempo and step != first:
            out.append(f"tempo_{layout.tempo[step]}")
        notes.write(a, b, out)
    return out


class _Notes:
    """Each note's tokens, with the track and velocity in force carried between notes."""

    def __init__(self, layout: Layout, velocities: bool, intervals: bool = False):
        self.cols = [c.tolist() for c in (layout.track, layout.pitch, layout.duration,
                                          layout.velocity)]  # fmt: skip
        self.drum = [drum for _, drum in layout.tracks]
        self.velocities, self.intervals = velocities, intervals
        self.track, self.bins = -1, [-1] * len(layout.tracks)
        self.before: list[int | None] = [None] * len(layout.tracks)  # each track's last pitch

    def write(self, a: int, b: int, out: list[str]) -> None:
        tracks, pitches, durations, bins = self.cols
        for i in range(a, b):
            track, v = tracks[i], bins[i]
            if track != self.track:
                out.append(f"tr{track}")
                self.track = track
            if self.velocities and v != self.bins[track]:
                out.append(f"v{v}")
                self.bins[track] = v
            if self.drum[track]:
                out.append(f"k{pitches[i]}")
                continue
            before, self.before[track] = self.before[track], pitches[i]
            if self.intervals and before is not None:
                out.append(f"i{pitches[i] - before:+d}")
            out += (str(pitches[i]), f"d{durations[i]}")


class Shifts:
    """Time as shifts between onsets (t16 t16 t4: 36 steps), a meter change where it falls."""

    def __init__(self, meters: list[tuple[int, int, int]], c: Any):
        self.changes = {s: f"meter_{n}/{d}" for s, n, d in meters if s > 0}
        self.most, self.now = c.max_shift_steps, 0

    def to(self, step: int, notes: bool, out: list[str]) -> None:
        del notes
        gap, self.now = step - self.now, step
        out += [f"t{self.most}"] * (gap // self.most)
        if gap % self.most:
            out.append(f"t{gap % self.most}")
        if step in self.changes:
            out.append(self.changes[step])


class Bars:
    """Time as REMI's bars and positions: a `bar` per bar line (a meter change after it), a
    `pos` before the notes of each onset."""

    def __init__(self, meters: list[tuple[int, int, int]], c: Any):
        self.spb = c.steps_per_beat
        self.changes = {s: (n, d) for s, n, d in meters if s > 0}
        opening = [(n, d) for s, n, d in meters if s == 0]
        self.length = int(bar_steps(*opening[0], self.spb)) if opening else 4 * self.spb
        self.bar: int | None = None

    def to(self, step: int, notes: bool, out: list[str]) -> None:
        if self.bar is None:
            self.bar = 0
            out.append("bar")
        while self.bar + self.length <= step:
            self.bar += self.length
            out.append("bar")
            if self.bar in self.changes:
                num, den = self.changes[self.bar]
                out.append(f"meter_{num}/{den}")
                self.length = int(bar_steps(num, den, self.spb))
        if notes:
            out.append(f"pos{step - self.bar}")


# -- tokens -> a layout ------------------------------------------------------------------------


@dataclasses.dataclass
class _Reading:
    """Where a reading of tokens is: the time, the bar, the track and velocities in force."""

    tracks: list[tuple[int, bool]] = dataclasses.field(default_factory=list)
    declared: int | None = None  # tracks_<n>: inst tokens beyond it are not tracks
    named: bool = False  # an inst token has made a track (else `tr<i>` makes piano tracks)
    header: bool = True  # no time or note token yet
    now: int = 0
    bar: int | None = None
    bar_length: int = 0
    track: int = 0
    bins: dict[int, int] = dataclasses.field(default_factory=dict)
    notes: list[list[int]] = dataclasses.field(default_factory=list)  # onset, track, p, d, v
    tempo: dict[int, int] = dataclasses.field(default_factory=dict)
    meters: dict[int, tuple[int, int]] = dataclasses.field(default_factory=dict)


def decode(tokens: list[str], c: Any, tempo: float) -> Layout:
    """The notes, tracks and maps of tokens; malformed and out-of-place tokens are skipped (a
    note on a track the header does not declare, a drum hit on a pitched track, ...). Without
    a header, `tr<i>` makes piano tracks as it names them. A note without `d` lasts a beat;
    without a tempo token the piece is at `tempo`."""
    r = _Reading(bar_length=4 * c.steps_per_beat)
    for token in tokens:
        got = parse(token)
        if got is not None:
            _take(r, got[0], got[1], c)
    if not r.tempo:
        r.tempo[0] = int(round(tempo))
    return _layout(r, c)


def _take(r: _Reading, kind: str, value: Any, c: Any) -> None:
    if kind in ("count", "inst", "tempo", "meter"):
        _take_header(r, kind, value, c)
        return
    if kind == "interval":
        return  # the pitch token that follows says the same
    r.header = False
    if kind == "shift":
        r.now += value
    elif kind == "bar":
        r.bar = 0 if r.bar is None else r.bar + r.bar_length
        r.now = r.bar
    elif kind == "pos":
        r.now = (r.bar or 0) + value
    elif kind == "track":
        r.track = value
        if not r.named and value < c.max_tracks:
            r.tracks += [(0, False)] * (value + 1 - len(r.tracks))
    elif kind == "vel":
        r.bins[r.track] = min(value, max(c.velocities - 1, 0))
    elif kind == "dur":
        if r.notes and r.notes[-1][3] == 0 and value > 0 and not _drum(r, r.notes[-1][1]):
            r.notes[-1][3] = value
    elif kind in ("pitch", "drum") and value <= 127:
        if not r.named and not r.tracks:
            r.tracks.append((0, False))
        if r.track >= len(r.tracks):
            return
        if _drum(r, r.track) == (kind == "drum"):
            default = c.velocities * VELOCITY // 128
            r.notes.append([r.now, r.track, value, 0, r.bins.get(r.track, default)])


def _take_header(r: _Reading, kind: str, value: Any, c: Any) -> None:
    if kind == "count" and r.header and r.declared is None:
        r.declared = value
    elif kind == "inst" and r.header and len(r.tracks) < min(r.declared or 99, c.max_tracks):
        r.tracks.append((max(value, 0), value < 0))
        r.named = True
    elif kind == "tempo":
        r.tempo[0 if r.header else r.now] = value
    elif kind == "meter" and meter_allowed(*value, c.steps_per_beat):
        at = 0 if r.header else r.bar if c.timing == "bars" and r.bar is not None else r.now
        r.meters[at] = value
        if c.timing == "bars":
            r.bar_length = int(bar_steps(*value, c.steps_per_beat))


def _drum(r: _Reading, track: int) -> bool:
    return track < len(r.tracks) and r.tracks[track][1]


def _layout(r: _Reading, c: Any) -> Layout:
    """Each track's notes by the grid rules (`on_grid`), sorted by (onset, track, pitch)."""
    arr = np.asarray(r.notes, dtype=np.int64).reshape(-1, 5)
    drums = np.array([drum for _, drum in r.tracks] + [False], dtype=bool)
    unset = np.where(drums[arr[:, 1]], DRUM_STEPS, c.steps_per_beat)
    length = np.where(arr[:, 3] > 0, arr[:, 3], unset)
    cols = on_grid(arr[:, 0], length, arr[:, 1], arr[:, 2], arr[:, 4], drums, c.max_duration_steps)
    meters = [(s, n, d) for s, (n, d) in sorted(r.meters.items())]
    return Layout(r.tracks, *cols, tempo=r.tempo, meters=meters)
