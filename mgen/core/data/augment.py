"""Transposition augmentation: each epoch reads each training piece in a random key.

A tokenizer says which shifts it allows (`transpositions`, e.g. -5..6 semitones from
`-T transpose=-5..6`) and how a token moves (`transpose`: mgen.core.contracts.transpose).
Training batches are then read through a table [shift, id] -> moved id: the shift of piece p
in epoch e is drawn from (seed, e) alone, so a resumed run sees exactly the batches an
uninterrupted one would. A piece is only moved by shifts that keep every token of it in the
vocabulary (no pitch leaves 0..127).
Validation pieces are never moved.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from mgen.core.contracts import transpose
from mgen.core.contracts.tokenizer import Tokenizer
from mgen.core.contracts.vocab import Vocab
from mgen.core.data import batches

#: Mixed into the epoch's generator seed, so the draws do not repeat the batch order's.
_SALT = 0x7A5


def transposed_counts(tok: Tokenizer, counts: Counter[str]) -> Counter[str]:
    """Token counts as if every piece were seen at every shift (what the vocabulary is fit
    on when transposition is on, so moved tokens have ids); `counts` itself when off."""
    shifts = transpose.shifts(tok)
    if shifts == (0,):
        return counts
    out: Counter[str] = Counter()
    for token, n in counts.items():
        for s in shifts:
            moved = transpose.move(tok, token, s)
            if moved is not None:
                out[moved] += n
    return out


class Transposer:
    """The id table of every shift and, per piece, the shifts it allows."""

    def __init__(self, tok: Tokenizer, vocab: Vocab, pieces: list[np.ndarray]):
        shifts = transpose.shifts(tok)
        table = np.tile(np.arange(len(vocab), dtype=np.int64), (len(shifts) + 1, 1))
        for row, s in enumerate(shifts):  # the last row stays the identity: the fallback
            for i, token in enumerate(vocab.tokens):
                moved = transpose.move(tok, token, s)
                table[row, i] = vocab.index.get(moved, -1) if moved is not None else -1
        self.shifts, self.table = shifts, table
        valid = table[:-1] >= 0  # [S, V]
        self.allowed = np.stack([valid[:, np.unique(p)].all(axis=1) for p in pieces])  # [P, S]

    def draw(self, seed: int, epoch: int) -> np.ndarray:
        """Each piece's table row for epoch `epoch`: uniform among the shifts it allows, the
        identity row for a piece that allows none. [P] int64."""
        u = np.random.default_rng([seed, epoch, _SALT]).random(len(self.allowed))
        counts = self.allowed.sum(axis=1)
        k = np.floor(u * counts).astype(np.int64)
        rows = np.argmax(np.cumsum(self.allowed, axis=1) > k[:, None], axis=1)
        return np.where(counts > 0, rows, len(self.shifts))


class _Transposing:
    """Reads the batches of its base class through the epoch's shifts."""

    transposer: Transposer
    rows: np.ndarray

    def epoch_batches(self, seed: int, epoch: int, start: int = 0):
        self.rows = self.transposer.draw(seed, epoch)
        yield from super().epoch_batches(seed, epoch, start)  # type: ignore[misc]


class _TransposedStream(_Transposing):
    """Lanes or windows: a position's piece is the last <start> at or before it."""

    stream: np.ndarray
    starts: np.ndarray

    def take(self, idx: np.ndarray) -> np.ndarray:
        piece = np.searchsorted(self.starts, idx, side="right") - 1
        return self.transposer.table[self.rows[piece], self.stream[idx]]


class TransposedStreams(_TransposedStream, batches.Streams):
    pass


class TransposedWindows(_TransposedStream, batches.Windows):
    pass


_WRAPPED: dict[type, type] = {
    batches.Streams: TransposedStreams,
    batches.Windows: TransposedWindows,
}

if hasattr(batches, "PieceBatches"):

    class TransposedPieces(_Transposing, batches.PieceBatches):
        """Whole pieces: row r of group g is the piece `first[g] + r`."""

        first: np.ndarray

        def batch(self, group: int, window: int) -> tuple[np.ndarray, np.ndarray]:
            x, y = super().batch(group, window)
            rows = self.rows[self.first[group] + np.arange(len(x))][:, None]
            return self.transposer.table[rows, x], self.transposer.table[rows, y]

    _WRAPPED[batches.PieceBatches] = TransposedPieces


def transposing(train: Any, tok: Tokenizer, vocab: Vocab) -> Any:
    """`train` (lanes, windows or whole pieces) reading every piece moved by a shift drawn per
    piece and epoch; `train` itself when the tokenizer allows no shift but 0."""
    if transpose.shifts(tok) == (0,) or type(train) not in _WRAPPED:
        return train
    if hasattr(train, "groups"):  # whole pieces, in groups
        pieces = [p for group in train.groups for p in group]
        sizes = [len(g) for g in train.groups]
        train.first = np.cumsum(sizes) - np.asarray(sizes, dtype=np.int64)
    else:
        train.starts = np.flatnonzero(train.stream == vocab.start_id)
        pieces = np.split(np.asarray(train.stream), train.starts[1:])
    train.transposer = Transposer(tok, vocab, pieces)
    train.rows = np.full(len(pieces), len(train.transposer.shifts), dtype=np.int64)
    train.__class__ = _WRAPPED[type(train)]  # same data, batches read through the table
    return train
