"""The one in-memory score: what every format (ABC, **kern, MIDI, MusicXML) reads into, what the
MIDI writer writes from, and what `mgen eval`, `mgen render` and `mgen serve` look at.

A `Score` is a list of `Track`s (one instrument or voice each: a MIDI track, a music21 part, a
**kern spine; with its name, General MIDI program and drum flag) whose notes are numpy columns
(onset and duration in beats, i.e. quarter notes; pitch; velocity), plus the score-wide maps of
tempo, meter and key, each a small array of changes from beat 0. As in symusic and MusPy, the
maps belong to the score and the notes to the tracks, so many instruments, drums and
dynamics need no other form; as in music21, times are beats, not a file's ticks. Where a file has
ticks (MIDI), `resolution` keeps how many a beat holds, so a note's tick is
`round(onset * resolution)`, exactly. A text format keeps its `source` text, to be checked or
written back as it was written.

For judging and pictures a score is also a flat list of the notes that sound (every pitched,
non-drum note that lasts, over all tracks, sorted by onset then pitch): `pitch`, `onset`,
`duration`, `velocity`, `bar_length`, `melody()`. `Piece`, the name of that flat view
before tracks existed, is this class.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np

DEFAULT_BAR = 4.0  # beats per bar when a file has no time signature (4/4)
DEFAULT_TEMPO = 120.0  # quarter notes a minute when a file states none (MIDI's own default)
DEFAULT_VELOCITY = 90  # what a note gets from a format without dynamics (ABC, **kern, MusicXML)


def _floats(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(-1)


def _ints(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).reshape(-1)


def _rows(values: Any, width: int) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(-1, width)


@dataclass(eq=False)
class Track:
    """One instrument or voice: its notes as columns, sorted by (onset, pitch) on creation."""

    name: str = ""
    program: int = 0  # General MIDI program, 0-127 (0: acoustic grand piano)
    is_drum: bool = False  # MIDI channel 10: pitches name drums, not notes
    onset: np.ndarray = field(default_factory=lambda: _floats([]))  # [N] float64 beats
    duration: np.ndarray = field(default_factory=lambda: _floats([]))  # [N] float64 beats
    pitch: np.ndarray = field(default_factory=lambda: _ints([]))  # [N] int64 MIDI numbers
    velocity: np.ndarray = field(default_factory=lambda: _ints([]))  # [N] int64, 1-127

    def __post_init__(self) -> None:
        self.onset, self.duration = _floats(self.onset), _floats(self.duration)
        self.pitch, self.velocity = _ints(self.pitch), _ints(self.velocity)
        sizes = {len(self.onset), len(self.duration), len(self.pitch), len(self.velocity)}
        if len(sizes) != 1:
            raise ValueError(f"a track's note columns differ in length: {sorted(sizes)}")
        if len(self.pitch) > 1:
            order = np.lexsort((self.pitch, self.onset))  # stable: equal notes keep their order
            if np.any(order[1:] < order[:-1]):
                self.onset, self.duration = self.onset[order], self.duration[order]
                self.pitch, self.velocity = self.pitch[order], self.velocity[order]

    @classmethod
    def from_notes(cls, notes: Iterable[Sequence[float]], **kwargs: Any) -> Track:
        """A track from (pitch, onset, duration) or (pitch, onset, duration, velocity) rows in
        any order; a row without velocity gets DEFAULT_VELOCITY."""
        rows = [(*n, DEFAULT_VELOCITY) if len(n) == 3 else tuple(n) for n in notes]
        arr = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
        return cls(onset=arr[:, 1], duration=arr[:, 2], pitch=arr[:, 0], velocity=arr[:, 3],
                   **kwargs)  # fmt: skip

    def __len__(self) -> int:
        return len(self.pitch)


def _column(i: int, doc: str) -> Any:
    """A read-only column of the flat view of a score's sounding notes."""
    return property(lambda self: self._sounding()[i], doc=doc)


@dataclass(eq=False)
class Score:
    """Tracks of notes and the maps of tempo, meter and key. Build it, then read it: the flat
    view of its sounding notes is made once, on first use."""

    name: str  # the file, plus `#n` for the n-th piece of a file holding several
    tracks: list[Track] = field(default_factory=list)
    #: [K, 2] (beat, quarter notes a minute), from beat 0; empty: DEFAULT_TEMPO throughout.
    tempos: np.ndarray = field(default_factory=lambda: _rows([], 2))
    #: [K, 3] (beat, numerator, denominator) of each time signature; empty: none stated (4/4).
    meters: np.ndarray = field(default_factory=lambda: _rows([], 3))
    #: [K, 3] (beat, sharps (-7..7, flats negative), minor (0 or 1)) of each key signature.
    keys: np.ndarray = field(default_factory=lambda: _rows([], 3))
    #: Ticks per beat of the file read (MIDI); 0 where the format has no ticks.
    resolution: int = 0
    fmt: str = ""  # the format read: "midi", "abc", "kern", "musicxml", or a plugin's name
    #: A text format's text as read (one ABC tune with its header, a **kern file), for checks
    #: and for writing it back as it was written; "" for a binary format.
    source: str = ""
    _flat: tuple[np.ndarray, ...] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.tracks = list(self.tracks)
        self.tempos, self.meters = _rows(self.tempos, 2), _rows(self.meters, 3)
        self.keys = _rows(self.keys, 3)

    # -- the flat view: what the judge, the piano roll and the player read ----------------------
    def _sounding(self) -> tuple[np.ndarray, ...]:
        """(pitch, onset, duration, velocity) of every pitched note that lasts, by onset, pitch."""
        if self._flat is None:
            tracks = [t for t in self.tracks if not t.is_drum]
            cols = [
                np.concatenate([getattr(t, c) for t in tracks]) if tracks else _floats([])
                for c in ("pitch", "onset", "duration", "velocity")
            ]
            pitch, onset, duration, velocity = cols
            keep = duration > 0
            if len(tracks) > 1:  # each track is sorted; all of them together are not
                order = np.lexsort((pitch, onset))
                keep = order[keep[order]]
            self._flat = (
                pitch[keep].astype(np.int64),
                onset[keep].astype(np.float64),
                duration[keep].astype(np.float64),
                velocity[keep].astype(np.int64),
            )
        return self._flat

    pitch = _column(0, "[N] int64 MIDI numbers of the sounding notes (see `_sounding`).")
    onset = _column(1, "[N] float64 beats (quarter notes) from the start.")
    duration = _column(2, "[N] float64 beats.")
    velocity = _column(3, "[N] int64 MIDI velocities.")

    def __len__(self) -> int:
        return len(self.pitch)

    @property
    def bar_length(self) -> float:
        """Beats per bar, from the first time signature (DEFAULT_BAR without one)."""
        if len(self.meters):
            _, num, den = self.meters[0]
            if num > 0 and den > 0:
                return float(num * 4.0 / den)
        return DEFAULT_BAR

    def melody(self) -> np.ndarray:
        """The top line: the highest pitch at each distinct onset, [M] int64.

        For monophonic music this is every note; for chords and piano music it is the line a
        listener follows, which is what "stuck" and "copied" should be judged on.
        """
        pitch, onset = self.pitch, self.onset
        if len(pitch) == 0:
            return pitch
        # Notes are sorted by (onset, pitch): the last note of each onset group is the highest.
        last = np.r_[onset[1:] != onset[:-1], True]
        return pitch[last]

    def end(self) -> float:
        return float((self.onset + self.duration).max()) if len(self) else 0.0

    def bars(self) -> int:
        return max(1, math.ceil(self.end() / self.bar_length - 1e-9))

    # -- time -----------------------------------------------------------------------------------
    def tempo_map(self) -> np.ndarray:
        """[K, 2] (beat, qpm) from beat 0: the stated map, DEFAULT_TEMPO before its first change."""
        if len(self.tempos) and self.tempos[0, 0] <= 0:
            return self.tempos
        return np.r_[[[0.0, DEFAULT_TEMPO]], self.tempos]

    def seconds(self, beats: Any) -> np.ndarray:
        """Seconds from the start at each of `beats`, through the tempo map."""
        beats = np.asarray(beats, dtype=np.float64)
        tempo = self.tempo_map()
        at, spb = tempo[:, 0], 60.0 / tempo[:, 1]  # seconds per beat from each change
        start = np.r_[0.0, np.cumsum(np.diff(at) * spb[:-1])]  # seconds at each change
        i = np.maximum(np.searchsorted(at, beats, side="right") - 1, 0)
        return start[i] + (beats - at[i]) * spb[i]

    # -- making scores --------------------------------------------------------------------------
    def split(self) -> list[Score]:
        """One score per track (its maps shared): each voice of a file as a piece of its own."""
        if len(self.tracks) <= 1:
            return [self]
        return [
            replace(self, name=f"{self.name}#{i}", tracks=[t]) for i, t in enumerate(self.tracks, 1)
        ]


#: The name of the flat view of notes before `Score` had tracks: the same class.
Piece = Score


def meter_of(bar_length: float) -> tuple[float, float]:
    """(numerator, denominator) of a time signature lasting `bar_length` beats: 3.0 -> 3/4,
    1.5 -> 3/8; a length with no such meter keeps its beats over 4 (bar_length stays exact)."""
    if not bar_length > 0:
        return 4.0, 4.0
    frac = Fraction(bar_length / 4).limit_denominator(64)
    if frac.numerator * 4.0 / frac.denominator == bar_length:
        return float(frac.numerator), float(frac.denominator)
    return float(bar_length), 4.0


def single(
    name: str,
    pitch: Any,
    onset: Any,
    duration: Any,
    bar_length: float = DEFAULT_BAR,
    velocity: Any = None,
    **kwargs: Any,
) -> Score:
    """A score of one (piano) track from note columns in any order, in the meter of
    `bar_length` (DEFAULT_BAR when not positive)."""
    pitch = _ints(pitch)
    vel = np.full(len(pitch), DEFAULT_VELOCITY) if velocity is None else velocity
    track = Track(onset=onset, duration=duration, pitch=pitch, velocity=vel)
    bar = bar_length if bar_length > 0 else DEFAULT_BAR
    return Score(name, [track], meters=[[0.0, *meter_of(bar)]], **kwargs)


def make_piece(name: str, notes: list[tuple[int, float, float]], bar_length: float) -> Score:
    """A one-track score from (pitch, onset, duration) triples in any order."""
    arr = np.asarray(notes, dtype=np.float64).reshape(-1, 3)
    return single(name, arr[:, 0], arr[:, 1], arr[:, 2], bar_length)


def change_map(rows: Iterable[Sequence[float]], width: int) -> np.ndarray:
    """[K, width] changes (beat first) sorted by beat: the first stated at a beat rules it, and
    a change to what is already in force is dropped (parts of a score restate their maps)."""
    arr = _rows(list(rows), width)
    if not len(arr):
        return arr
    arr = arr[np.argsort(arr[:, 0], kind="stable")]
    first = np.r_[True, arr[1:, 0] != arr[:-1, 0]]
    arr = arr[first]
    new = np.r_[True, np.any(arr[1:, 1:] != arr[:-1, 1:], axis=1)]
    return arr[new]
