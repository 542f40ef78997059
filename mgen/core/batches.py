"""From a corpus to training batches: the train/validation split, id streams and windows."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mgen.core.corpus import Corpus
from mgen.core.vocab import Vocab


def split_pieces(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic train/validation split of piece indices (validation empty if n < 2)."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = 0 if n < 2 or val_fraction <= 0 else max(1, round(n * val_fraction))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def token_stream(corpus: Corpus, pieces: Sequence[int], vocab: Vocab) -> np.ndarray:
    """Pieces as vocabulary ids, each wrapped in <start> ... <end>, concatenated: [N] uint16/int32."""
    lut = np.asarray([vocab.index.get(t, vocab.unk_id) for t in corpus.tokens], dtype=np.int32)
    dtype = np.uint16 if len(vocab) < 2**16 else np.int32
    total = sum(int(corpus.offsets[i + 1] - corpus.offsets[i]) + 2 for i in pieces)
    out = np.empty(total, dtype=dtype)
    pos = 0
    for i in pieces:
        body = lut[corpus.ids[corpus.offsets[i] : corpus.offsets[i + 1]]]
        out[pos] = vocab.start_id
        out[pos + 1 : pos + 1 + len(body)] = body
        out[pos + 1 + len(body)] = vocab.end_id
        pos += len(body) + 2
    return out


class Windows:
    """Non-overlapping (input, target) windows of `seq_len` over a token stream.

    Epoch `e` visits every window once in an order fixed by (seed, e), so a run that resumes at
    step k of epoch e sees exactly the batches an uninterrupted run would.
    """

    def __init__(self, stream: np.ndarray, seq_len: int, batch_size: int):
        self.stream, self.seq_len, self.batch_size = stream, seq_len, batch_size
        self.n_windows = max(0, (len(stream) - 1) // seq_len)

    def batches_per_epoch(self) -> int:
        return -(-self.n_windows // self.batch_size)

    def order(self, seed: int, epoch: int) -> np.ndarray:
        return np.random.default_rng([seed, epoch]).permutation(self.n_windows)

    def batch(self, window_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """[B] window indices -> inputs and targets, each [B, seq_len] int64."""
        starts = window_ids.astype(np.int64) * self.seq_len
        idx = starts[:, None] + np.arange(self.seq_len + 1)  # [B, T+1]
        chunk = self.stream[idx].astype(np.int64)
        return chunk[:, :-1], chunk[:, 1:]

    def epoch_batches(self, seed: int, epoch: int, start: int = 0):
        order = self.order(seed, epoch)
        for b in range(start, self.batches_per_epoch()):
            yield b, self.batch(order[b * self.batch_size : (b + 1) * self.batch_size])
