"""Note events: what every format is reduced to for judging and pictures (format-free)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DEFAULT_BAR = 4.0  # beats per bar when a file has no time signature (4/4)


@dataclass
class Piece:
    """One piece's notes, sorted by (onset, pitch). Chords give one note per pitch."""

    name: str  # the file, plus `#n` for the n-th piece of a file holding several
    pitch: np.ndarray  # [N] int64 MIDI numbers
    onset: np.ndarray  # [N] float64 beats (quarter notes) from the start
    duration: np.ndarray  # [N] float64 beats
    bar_length: float  # beats per bar, from the first time signature

    def __len__(self) -> int:
        return len(self.pitch)

    def melody(self) -> np.ndarray:
        """The top line: the highest pitch at each distinct onset, [M] int64.

        For monophonic music this is every note; for chords and piano music it is the line a
        listener follows, which is what "stuck" and "copied" should be judged on.
        """
        if len(self.pitch) == 0:
            return self.pitch
        # Notes are sorted by (onset, pitch): the last note of each onset group is the highest.
        last = np.r_[self.onset[1:] != self.onset[:-1], True]
        return self.pitch[last]

    def end(self) -> float:
        return float((self.onset + self.duration).max()) if len(self) else 0.0

    def bars(self) -> int:
        return max(1, math.ceil(self.end() / self.bar_length - 1e-9))


def make_piece(name: str, notes: list[tuple[int, float, float]], bar_length: float) -> Piece:
    """A Piece from (pitch, onset, duration) triples in any order."""
    notes = sorted(notes, key=lambda n: (n[1], n[0]))
    arr = np.asarray(notes, dtype=np.float64).reshape(-1, 3)
    bar = bar_length if bar_length > 0 else DEFAULT_BAR
    return Piece(name, arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2], bar)
