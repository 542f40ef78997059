"""The grammar of `kern` (the optional grammar hook, mgen.core.contracts.grammar): every sample is a
melody the writer writes as it was sampled, with nothing dropped or skipped.

durations:  [M] N (iv N | r D...)*   N = pitch D...  (with intervals each pitch after the first
            is announced by its interval, and the pitch is the one the interval names; M: the
            meter token that may open it, `M4/2`)
grid:       the same with `_` holds in place of durations, a pitch or rest opening each step.
"""

from __future__ import annotations

import numpy as np

from mgen.core.contracts.grammar import KindGrammar
from mgen.core.contracts.vocab import Vocab
from mgen.formats.kern.text import REST, is_interval, meter_of


def _kind(token: str, lengths: set[str]) -> str | None:
    if token.isdigit() and int(token) <= 127:
        return "pitch"
    if meter_of(token) is not None:
        return "meter"
    if token == REST:
        return "rest"
    if is_interval(token):
        return "interval"
    return "length" if token in lengths else None


class KernGrammar(KindGrammar):
    """A note or rest is its pitch (after its interval) and then its length; the melody ends
    after a length (durations) or any step (grid); with intervals, the pitch after an interval
    is the one it names."""

    def __init__(
        self, vocab: Vocab, num_samples: int, grid: bool, intervals: bool, lengths: set[str]
    ):
        """`lengths`: the tokens that lengthen a note (`_` on the grid, else durations)."""
        kinds = {t: k for t in vocab.tokens if (k := _kind(t, lengths)) is not None}
        note = {"pitch", "rest", "interval"} if intervals else {"pitch", "rest"}
        after_note = {"length"} | (note if grid else set())
        follows = {
            "": {"meter", "pitch", "rest"},
            "meter": {"pitch", "rest"},
            "pitch": after_note,
            "rest": after_note,
            "length": {"length"} | note,
            "interval": {"pitch"},
        }
        ends = {"pitch", "rest", "length"} if grid else {"length"}
        super().__init__(vocab, num_samples, kinds, follows, may_end=ends)
        self.intervals = intervals
        self.pitch = np.array([int(t) if kinds.get(t) == "pitch" else -1 for t in vocab.tokens])
        step = np.array([int(t) if kinds.get(t) == "interval" else 0 for t in vocab.tokens])
        is_interval = np.array([kinds.get(t) == "interval" for t in vocab.tokens])
        self.step, self.is_interval = step, is_interval
        self.blocked, self.only = self._tables(step, is_interval)
        self.last = np.full(num_samples, 128)  # [K]: the last pitch (128: none yet)
        self.named = np.full(num_samples, 128)  # [K]: the pitch an interval just named

    def _tables(self, step: np.ndarray, is_interval: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per last pitch (128: none yet), the tokens a note may not start with: a bare pitch
        (after the first, every pitch comes after its interval) and an interval that lands on a
        pitch the vocabulary lacks; before the first pitch, any interval. And per named pitch,
        the one token allowed after its interval."""
        pitched = self.pitch >= 0
        known = np.zeros(129, dtype=bool)
        known[self.pitch[pitched]] = True
        blocked = np.zeros((129, len(self.pitch)), dtype=bool)  # [last, V]
        for last in range(128):
            target = np.clip(last + step, 0, 128)
            lands = known[target] & (last + step >= 0) & (last + step <= 127)
            blocked[last] = pitched | (is_interval & ~lands)
        blocked[128] = is_interval
        only = np.zeros((129, len(self.pitch)), dtype=bool)  # [named, V]
        only[self.pitch[pitched], np.flatnonzero(pitched)] = True
        return blocked, only

    def allowed(self) -> np.ndarray:
        mask = super().allowed()  # [K, V], a fresh array
        if not self.intervals:
            return mask
        after = self.state == self.code["interval"]  # [K]
        mask[~after] &= ~self.blocked[self.last[~after]]
        mask[after] &= self.only[self.named[after]]
        return mask

    def advance(self, ids: np.ndarray) -> None:
        super().advance(ids)
        pitch, step = self.pitch[ids], self.step[ids]
        self.named = np.where(self.is_interval[ids], np.clip(self.last + step, 0, 128), self.named)
        self.last = np.where(pitch >= 0, pitch, self.last)
