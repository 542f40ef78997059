"""From a corpus to training batches: the train/validation split, id streams and windows.

Each batches class declares its `Layout` (how it lays the pieces out, so how the trainer carries
the model's state) and its `carry_plan` (whose state each batch continues); the trainer reads
those and never asks which class it holds. Transposition (mgen.core.data.augment) wraps any of
them: they read their ids through an optional `move` of (ids, piece of each id).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import numpy as np

from mgen.core.contracts.vocab import Vocab
from mgen.core.data.corpus import Corpus


def split_pieces(
    n: int, val_fraction: float, seed: int, groups: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic train/validation split of piece indices (validation empty if n < 2).

    With `groups` ([n] group id per piece, e.g. its source file) whole groups go to one side:
    groups are taken in a seeded order until validation holds `val_fraction` of the pieces, so
    the voices of one **kern movement never straddle the split."""
    if groups is None:
        groups = np.arange(n)
    want = 0 if n < 2 or val_fraction <= 0 else max(1, round(n * val_fraction))
    ids, sizes = np.unique(groups, return_counts=True)
    order = np.random.default_rng(seed).permutation(len(ids))
    taken = np.cumsum(sizes[order])
    n_groups = int(np.searchsorted(taken, want)) + 1 if want else 0
    if want and n_groups >= len(ids):  # one group (or all) would be everything: keep training
        n_groups = len(ids) - 1
    val = np.isin(groups, ids[order[:n_groups]])
    return np.flatnonzero(~val), np.flatnonzero(val)


def drop_duplicates(
    corpus: Corpus, train: np.ndarray, val: np.ndarray, held: Corpus | None = None
) -> tuple[np.ndarray, int]:
    """Validation pieces (of `held`, default `corpus`) whose tokens equal a training piece's
    are dropped: collections that share a tune would otherwise validate on what they trained
    on. Returns (kept validation pieces, how many were dropped)."""
    held = held if held is not None else corpus

    def key(c: Corpus, i: int) -> object:
        ids = c.ids[c.offsets[i] : c.offsets[i + 1]]
        # One token table: compare the ids' bytes; two: compare the tokens themselves.
        return ids.tobytes() if held is corpus else tuple(c.tokens[j] for j in ids)

    seen = {hash(key(corpus, int(i))) for i in train}
    kept = np.asarray([i for i in val if hash(key(held, int(i))) not in seen], dtype=np.int64)
    return kept, len(val) - len(kept)


def token_stream(corpus: Corpus, pieces: Sequence[int], vocab: Vocab, align: int = 0) -> np.ndarray:
    """Pieces as vocabulary ids, each wrapped in <start> ... <end>, concatenated: [N] uint16/int32.
    With `align` > 0 each piece is followed by <pad> up to a multiple of `align` tokens, so
    every piece starts a window of that length."""
    lut = np.asarray([vocab.index.get(t, vocab.unk_id) for t in corpus.tokens], dtype=np.int32)
    dtype = np.uint16 if len(vocab) < 2**16 else np.int32
    sizes = [int(corpus.offsets[i + 1] - corpus.offsets[i]) + 2 for i in pieces]
    slots = [-(-n // align) * align for n in sizes] if align > 0 else sizes
    out = np.full(sum(slots), vocab.pad_id, dtype=dtype)
    pos = 0
    for i, slot in zip(pieces, slots, strict=True):
        body = lut[corpus.ids[corpus.offsets[i] : corpus.offsets[i + 1]]]
        out[pos] = vocab.start_id
        out[pos + 1 : pos + 1 + len(body)] = body
        out[pos + 1 + len(body)] = vocab.end_id
        pos += slot
    return out


def _runs(stream: np.ndarray, i: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each maximal run of `i` in `stream` starts, and where it ends (exclusive)."""
    edges = np.diff(np.concatenate([[0], (stream == i).astype(np.int8), [0]]))  # +1 / -1
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def longest_run(stream: np.ndarray, ids: Sequence[int]) -> int:
    """The most times any of `ids` repeats in a row in `stream` ([N] ids): how long a hold,
    rest or time-shift run the data has (0 if none occurs)."""
    best = 0
    for i in ids:
        starts, ends = _runs(stream, i)
        if len(starts):
            best = max(best, int((ends - starts).max()))
    return best


def longest_runs_after(stream: np.ndarray, ids: Sequence[int]) -> dict[int, int]:
    """For every token that a run of one of `ids` follows in `stream` ([N] ids), the longest
    such run: how long the data ever holds a note after that pitch, or a rest after a rest."""
    best: dict[int, int] = {}
    for i in ids:
        starts, ends = _runs(stream, i)
        keep = starts > 0  # a run at the very start follows nothing
        before, lengths = stream[starts[keep] - 1], (ends - starts)[keep]
        for b in np.unique(before):
            n = int(lengths[before == b].max())
            best[int(b)] = max(best.get(int(b), 0), n)
    return best


@dataclasses.dataclass(frozen=True)
class Layout:
    """How a batches object lays the training pieces out: what the trainer must know to carry
    the model's state from batch to batch (declared by the batches, never guessed)."""

    #: The `--batching` value this is.
    name: str
    #: A row's state flows on into the next batch that `carry_plan` gives the same key
    #: (truncated backpropagation through time); False: every window starts from the empty state.
    carries_state: bool
    #: A row whose window opens with <start> starts from the empty state while the other rows
    #: carry on: every piece is read from its start, as sampling and scoring read it.
    fresh_at_start: bool = False


WINDOWS = Layout("windows", carries_state=False)
LANES = Layout("lanes", carries_state=True)
PIECE_LANES = Layout("piece-lanes", carries_state=True, fresh_at_start=True)
PIECES = Layout("pieces", carries_state=True)

#: Rewrites a batch's ids before training reads them: (ids [B, T+1] int64, the index of the
#: piece each id belongs to, broadcastable to them) -> ids. Transposition is one.
Move = Callable[[np.ndarray, np.ndarray], np.ndarray]
Batch = tuple[np.ndarray, np.ndarray]  # inputs and their targets, each [B, T] int64


class Batches(Protocol):
    """What the trainer reads of its training batches."""

    @property
    def layout(self) -> Layout: ...

    def batches_per_epoch(self) -> int: ...

    def carry_plan(self, seed: int, epoch: int, b: int) -> tuple[int, bool, bool]:
        """(whose state batch `b` continues, start it empty?, drop it after?)."""
        ...

    def epoch_batches(self, seed: int, epoch: int, start: int = 0) -> Iterator[tuple[int, Batch]]:
        """Batches `start`.. of the epoch, as (index, batch); fixed by (seed, epoch)."""
        ...


class Movable(Batches, Protocol):
    """Batches that a wrapper can read moved (mgen.core.data.augment): its pieces, numbered as
    the `move` hook is told them, and its epochs read through a move."""

    def pieces(self) -> list[np.ndarray]: ...

    def epoch_batches(
        self, seed: int, epoch: int, start: int = 0, move: Move | None = None
    ) -> Iterator[tuple[int, Batch]]: ...


class _OverStream:
    """Batches cut from one token stream: pieces end to end, each opened by its <start>."""

    stream: np.ndarray

    def take(self, idx: np.ndarray) -> np.ndarray:
        """The stream's ids at positions `idx`, as int64."""
        return self.stream[idx].astype(np.int64)

    def read(self, idx: np.ndarray, move: Move | None) -> np.ndarray:
        """The ids at `idx`, moved by `move` as the piece of each position says."""
        ids = self.take(idx)
        return ids if move is None else move(ids, self.piece_at(idx))

    @functools.cached_property
    def starts(self) -> np.ndarray:
        """Where each piece's <start> is."""
        return np.flatnonzero(self.stream == Vocab.start_id)

    def pieces(self) -> list[np.ndarray]:
        return np.split(np.asarray(self.stream), self.starts[1:])

    def piece_at(self, idx: np.ndarray) -> np.ndarray:
        """The piece of each position: the last <start> at or before it."""
        return np.searchsorted(self.starts, idx, side="right") - 1


class Windows(_OverStream):
    """Non-overlapping (input, target) windows of `seq_len` over a token stream.

    Epoch `e` visits every window once in an order fixed by (seed, e), so a run that resumes at
    step k of epoch e sees exactly the batches an uninterrupted run would.
    """

    layout = WINDOWS

    def __init__(self, stream: np.ndarray, seq_len: int, batch_size: int):
        self.stream, self.seq_len, self.batch_size = stream, seq_len, batch_size
        self.n_windows = max(0, (len(stream) - 1) // seq_len)

    def batches_per_epoch(self) -> int:
        return -(-self.n_windows // self.batch_size)

    def order(self, seed: int, epoch: int) -> np.ndarray:
        return np.random.default_rng([seed, epoch]).permutation(self.n_windows)

    def batch(self, window_ids: np.ndarray, move: Move | None = None) -> Batch:
        """[B] window indices -> inputs and targets, each [B, seq_len] int64."""
        starts = window_ids.astype(np.int64) * self.seq_len
        idx = starts[:, None] + np.arange(self.seq_len + 1)  # [B, T+1]
        chunk = self.read(idx, move)
        return chunk[:, :-1], chunk[:, 1:]

    def carry_plan(self, seed: int, epoch: int, b: int) -> tuple[int, bool, bool]:
        """(whose state, start it empty?, drop it after?): every window starts empty."""
        return 0, True, True

    def epoch_batches(self, seed: int, epoch: int, start: int = 0, move: Move | None = None):
        order = self.order(seed, epoch)
        for b in range(start, self.batches_per_epoch()):
            yield b, self.batch(order[b * self.batch_size : (b + 1) * self.batch_size], move)


class Streams(_OverStream):
    """The training stream as `batch_size` contiguous lanes, read in order: truncated
    backpropagation through time, the char-rnn / AWD-LSTM way.

    Epoch e starts at an offset fixed by (seed, e) and cuts the stream, read circularly, into
    B lanes of equal length; batch b holds window b of every lane ([B, T] inputs and their next
    tokens). Lane i of batch b+1 continues exactly where lane i of batch b ended, so a model that
    carries its state from one batch to the next reads each lane as one long sequence, pieces
    one after another with their <start>/<end>. The same (seed, epoch) gives the same batches,
    so a resumed run sees exactly what an uninterrupted one would.

    `aligned` (piece-lanes): the stream was built with `token_stream(align=seq_len)`, so offsets
    and lanes are cut at multiples of T and every piece opens a window; such a row starts from
    an empty state (`Layout.fresh_at_start`), as sampling and scoring read a piece, and nothing
    is predicted after a piece's <end> (those targets become <pad>).
    """

    def __init__(self, stream: np.ndarray, seq_len: int, batch_size: int, aligned: bool = False):
        self.stream, self.seq_len, self.batch_size = stream, seq_len, batch_size
        self.aligned = aligned
        lane = len(stream) // batch_size  # input tokens per lane
        self.lane_len = lane - lane % seq_len if aligned else lane

    @property
    def layout(self) -> Layout:
        return PIECE_LANES if self.aligned else LANES

    def batches_per_epoch(self) -> int:
        return self.lane_len // self.seq_len

    def offset(self, seed: int, epoch: int) -> int:
        step = self.seq_len if self.aligned else 1
        return step * int(np.random.default_rng([seed, epoch]).integers(len(self.stream) // step))

    def batch(self, offset: int, b: int, move: Move | None = None) -> Batch:
        """Window `b` of every lane: inputs and targets, each [B, T] int64."""
        lanes = offset + np.arange(self.batch_size, dtype=np.int64) * self.lane_len  # [B]
        idx = (lanes[:, None] + b * self.seq_len + np.arange(self.seq_len + 1)) % len(self.stream)
        chunk = self.read(idx, move)  # [B, T+1]
        x, y = chunk[:, :-1], chunk[:, 1:]
        if self.aligned:  # after <end> (and on its padding) comes the next piece: not a target
            y = np.where((x == Vocab.end_id) | (x == Vocab.pad_id), Vocab.pad_id, y)
        return x, y

    def carry_plan(self, seed: int, epoch: int, b: int) -> tuple[int, bool, bool]:
        """(whose state, start it empty?, drop it after?): one state for all the lanes, which
        start afresh with each epoch."""
        return 0, b == 0, False

    def epoch_batches(self, seed: int, epoch: int, start: int = 0, move: Move | None = None):
        offset = self.offset(seed, epoch)
        for b in range(start, self.batches_per_epoch()):
            yield b, self.batch(offset, b, move)


def piece_arrays(corpus: Corpus, pieces: Sequence[int], vocab: Vocab) -> list[np.ndarray]:
    """Each piece as vocabulary ids wrapped in <start> ... <end>: [len + 2] int64 each."""
    lut = np.asarray([vocab.index.get(t, vocab.unk_id) for t in corpus.tokens], dtype=np.int64)
    out = []
    for i in pieces:
        body = lut[corpus.ids[corpus.offsets[i] : corpus.offsets[i + 1]]]
        out.append(np.concatenate([[vocab.start_id], body, [vocab.end_id]]))
    return out


class PieceBatches:
    """Whole pieces, `batch_size` at a time, each read from its <start> with a fresh state and
    its state carried from window to window to its <end>: truncated backpropagation through
    time with the state reset at every piece's start, as whole-piece scoring reads it.

    Pieces are grouped by length (so little padding is needed) once. Each epoch takes the
    groups in an order fixed by (seed, epoch), `interleave` at a time, and alternates between
    them window by window, so that consecutive updates do not all come from the same pieces.
    Batch b is window `c` of group `g`: inputs and targets [B, T], padded with <pad> (id 0)
    after a piece's end, which the loss ignores.
    """

    layout = PIECES
    interleave = 8

    def __init__(self, pieces: list[np.ndarray], seq_len: int, batch_size: int):
        self.seq_len, self.batch_size = seq_len, batch_size
        order = sorted(range(len(pieces)), key=lambda i: len(pieces[i]))
        self.groups = [
            [pieces[i] for i in order[k : k + batch_size]] for k in range(0, len(order), batch_size)
        ]
        # Windows per group: its longest piece's inputs (all but the last token) over T.
        self.windows = [-(-max(len(p) - 1 for p in g) // seq_len) for g in self.groups]
        self.stream = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)
        sizes = np.asarray([len(g) for g in self.groups], dtype=np.int64)
        self.first = np.cumsum(sizes) - sizes  # each group's first piece, in `pieces()`
        self._plan: tuple[tuple[int, int] | None, list[tuple[int, int]]] = (None, [])

    def batches_per_epoch(self) -> int:
        return sum(self.windows)

    def plan(self, seed: int, epoch: int) -> list[tuple[int, int]]:
        """(group, window) of every batch of the epoch, in order."""
        if self._plan[0] != (seed, epoch):
            order = np.random.default_rng([seed, epoch]).permutation(len(self.groups)).tolist()
            plan = []
            for k in range(0, len(order), self.interleave):
                round_ = order[k : k + self.interleave]
                most = max(self.windows[g] for g in round_)
                plan += [(g, c) for c in range(most) for g in round_ if c < self.windows[g]]
            self._plan = ((seed, epoch), plan)
        return self._plan[1]

    def carry_plan(self, seed: int, epoch: int, b: int) -> tuple[int, bool, bool]:
        """(whose state: the group's, start it empty?: at its first window, drop it after?:
        at its last)."""
        g, c = self.plan(seed, epoch)[b]
        return g, c == 0, c == self.windows[g] - 1

    def batch(self, group: int, window: int, move: Move | None = None) -> Batch:
        t0, size = window * self.seq_len, self.seq_len
        seq = np.zeros((len(self.groups[group]), size + 1), dtype=np.int64)  # <pad> = 0
        for row, piece in enumerate(self.groups[group]):
            part = piece[t0 : t0 + size + 1]
            seq[row, : len(part)] = part
        if move is not None:  # row r of group g is piece first[g] + r (of `pieces()`)
            seq = move(seq, (self.first[group] + np.arange(len(seq)))[:, None])
        return seq[:, :-1], seq[:, 1:]

    def pieces(self) -> list[np.ndarray]:
        """The pieces group by group: the numbering `move` is told."""
        return [p for group in self.groups for p in group]

    def epoch_batches(self, seed: int, epoch: int, start: int = 0, move: Move | None = None):
        plan = self.plan(seed, epoch)
        for b in range(start, len(plan)):
            yield b, self.batch(*plan[b], move)
