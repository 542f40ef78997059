"""Transposition augmentation: each epoch reads each training piece in a random key.

A tokenizer says which shifts it allows (`transpositions`, e.g. -5..6 semitones from
`-T transpose=-5..6`) and how a token moves (`transpose`: mgen.core.contracts.transpose). `Transposed` wraps the
training batches and reads their ids through a table [shift, id] -> moved id: the shift of
piece p in epoch e is drawn from (seed, e) alone, so a resumed run sees exactly the batches an
uninterrupted one would. A piece is only moved by shifts that keep every token of it in the
vocabulary (no pitch leaves 0..127). Validation pieces are never moved.
"""

from __future__ import annotations

from collections import Counter

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


class Transposed:
    """Any training batches (lanes, windows, whole pieces: a `batches.Movable`) read with every
    piece moved by its shift of the epoch: the same windows, order, layout and carry plan as the
    batches it wraps, their ids read through the epoch's table."""

    def __init__(self, base: batches.Movable, tok: Tokenizer, vocab: Vocab):
        self.base = base
        self.transposer = Transposer(tok, vocab, base.pieces())
        # Each piece's table row; until an epoch draws them, the identity row.
        self.rows = np.full(len(self.transposer.allowed), len(self.transposer.shifts), np.int64)

    @property
    def layout(self) -> batches.Layout:
        return self.base.layout

    def batches_per_epoch(self) -> int:
        return self.base.batches_per_epoch()

    def carry_plan(self, seed: int, epoch: int, b: int) -> tuple[int, bool, bool]:
        return self.base.carry_plan(seed, epoch, b)

    def move(self, ids: np.ndarray, pieces: np.ndarray) -> np.ndarray:
        """`ids` of the given pieces, each moved by its piece's shift (`batches.Move`)."""
        return self.transposer.table[self.rows[pieces], ids]

    def take(self, idx: np.ndarray) -> np.ndarray:
        """Lanes or windows: the moved ids at stream positions `idx`."""
        base = self.base
        return self.move(base.take(idx), base.piece_at(idx))  # type: ignore[attr-defined]

    def epoch_batches(self, seed: int, epoch: int, start: int = 0):
        self.rows = self.transposer.draw(seed, epoch)
        yield from self.base.epoch_batches(seed, epoch, start, move=self.move)


def transposing(train: batches.Movable, tok: Tokenizer, vocab: Vocab) -> batches.Batches:
    """`train` (lanes, windows or whole pieces) reading every piece moved by a shift drawn per
    piece and epoch; `train` itself when the tokenizer allows no shift but 0."""
    if transpose.shifts(tok) == (0,):
        return train
    return Transposed(train, tok, vocab)
