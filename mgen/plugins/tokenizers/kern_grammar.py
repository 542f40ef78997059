"""The grammar of `kern` (the optional grammar hook, mgen.core.grammar): every sample is a
melody the writer writes as it was sampled, with nothing dropped or skipped.

durations:  N (iv N | r D...)*   N = pitch D...  (with intervals each pitch after the first is
            announced by its interval, and the pitch is the one the interval names)
grid:       the same with `_` holds in place of durations, a pitch or rest opening each step.
"""

from __future__ import annotations

import numpy as np

from mgen.core.grammar import KindGrammar
from mgen.core.vocab import Vocab
from mgen.plugins.tokenizers.kern_text import REST, is_interval


def _kind(token: str, lengths: set[str]) -> str | None:
    if token.isdigit() and int(token) <= 127:
        return "pitch"
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
            "": {"pitch", "rest"},
            "pitch": after_note,
            "rest": after_note,
            "length": {"length"} | note,
            "interval": {"pitch"},
        }
        ends = {"pitch", "rest", "length"} if grid else {"length"}
        super().__init__(vocab, num_samples, kinds, follows, may_end=ends)
        self.intervals = intervals
        self.pitch = np.array([int(t) if kinds.get(t) == "pitch" else -1 for t in vocab.tokens])
        self.step = np.array([int(t) if kinds.get(t) == "interval" else 0 for t in vocab.tokens])
        self.is_interval = np.array([kinds.get(t) == "interval" for t in vocab.tokens])
        self.last = np.full(num_samples, -1)  # [K]: the last pitch (-1: none yet)
        self.named = np.full(num_samples, -1)  # [K]: the pitch an interval just named

    def allowed(self) -> np.ndarray:
        mask = super().allowed()  # [K, V]
        if not self.intervals:
            return mask
        mask = mask.copy()
        has_last = (self.last >= 0)[:, None]
        # Every pitch after the first comes after its interval, never straight after a length.
        mask &= ~((self.state != self.code["interval"])[:, None] & has_last & (self.pitch >= 0))
        mask &= ~(~has_last & self.is_interval)  # no interval before the first pitch
        # An interval must land on a pitch the vocabulary has; the pitch must be the one named.
        target = self.last[:, None] + self.step  # [K, V]
        landable = np.zeros_like(mask)
        known = np.zeros(128, dtype=bool)
        known[self.pitch[self.pitch >= 0]] = True
        inside = (target >= 0) & (target <= 127)
        landable[inside] = known[target[inside]]
        mask &= ~(self.is_interval & ~landable)
        after = (self.state == self.code["interval"])[:, None]
        return mask & ~(after & (self.pitch >= 0) & (self.pitch != self.named[:, None]))

    def advance(self, ids: np.ndarray) -> None:
        super().advance(ids)
        pitch, step = self.pitch[ids], self.step[ids]
        self.named = np.where(self.is_interval[ids], self.last + step, self.named)
        self.last = np.where(pitch >= 0, pitch, self.last)
