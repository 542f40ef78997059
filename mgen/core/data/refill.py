"""Fill-in-the-middle cut points drawn again each epoch (mgen.core.data.infill).

`infilled` rewrites a share of the pieces once, when the data is prepared; `Refilled` wraps the
training batches and, at the start of every epoch, cuts each of those pieces again at two span
boundaries drawn from (seed, epoch) alone, in place: the piece keeps its length (its tokens and
the three sentinels are the same, in another order), so every batching's windows, lanes and
carry plan stay as they are, and a resumed run sees exactly the batches an uninterrupted one
would. The model so sees each piece's middle cut at a new place each epoch, not the same one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from mgen.core.contracts.infill import SENTINELS
from mgen.core.contracts.tokenizer import Tokenizer
from mgen.core.contracts.vocab import Vocab
from mgen.core.data import batches
from mgen.core.data.infill import boundaries

_SALT = 0xF2  # mixed into the epoch's seed, so the cuts do not repeat other draws


class _Job:
    """One rewritten piece: its array (a view into the batches' own), where its sentinel
    layout begins, its body in reading order, and where that body may be cut."""

    def __init__(self, piece: np.ndarray, ids: tuple[int, int, int], end: int, tok: Tokenizer,
                 vocab: Vocab):  # fmt: skip
        suffix, prefix, middle = ids
        at_s = int(np.flatnonzero(piece == suffix)[0])
        at_p = at_s + int(np.flatnonzero(piece[at_s:] == prefix)[0])
        at_m = at_p + int(np.flatnonzero(piece[at_p:] == middle)[0])
        stop = at_m + int(np.flatnonzero(piece[at_m:] == end)[0])
        self.piece, self.at, self.ids = piece, at_s, ids
        # [N]: the piece as written, prefix + middle + suffix
        self.body = np.concatenate([piece[at_p + 1 : at_m], piece[at_m + 1 : stop],
                                    piece[at_s + 1 : at_p]]).astype(np.int64)  # fmt: skip
        self.cuts = np.asarray(boundaries(tok, vocab.decode(self.body.tolist())))

    def cut(self, rng: np.random.Generator) -> None:
        a, b = sorted(rng.choice(self.cuts, size=2, replace=len(self.cuts) < 2).tolist())
        s, p, m = self.ids
        body = self.body
        self.piece[self.at : self.at + len(body) + 3] = np.concatenate(
            [[s], body[b:], [p], body[:a], [m], body[a:b]])  # fmt: skip


class Refilled:
    """`base` (any batches over pieces) with its fill-in-the-middle pieces cut anew each epoch;
    everything else is `base`'s."""

    def __init__(self, base: batches.Movable, tok: Tokenizer, vocab: Vocab):
        self.base = base
        s, p, m = (vocab.index[t] for t in SENTINELS)
        self.jobs = [_Job(piece, (s, p, m), vocab.end_id, tok, vocab)
                     for piece in base.pieces() if (piece == s).any()]  # fmt: skip

    def __getattr__(self, name: str) -> Any:
        return getattr(self.base, name)

    def epoch_batches(self, seed: int, epoch: int, start: int = 0, move: Any = None) -> Iterator:
        rng = np.random.default_rng([seed, epoch, _SALT])
        for job in self.jobs:
            job.cut(rng)
        yield from self.base.epoch_batches(seed, epoch, start, move=move)


def refilling(train: Any, tok: Tokenizer, vocab: Vocab) -> Any:
    """`train` cutting its fill-in-the-middle pieces anew each epoch; `train` itself when the
    vocabulary has no sentinels (no --infill)."""
    if not all(t in vocab for t in SENTINELS):
        return train
    return Refilled(train, tok, vocab)
