"""Transposition augmentation (`-T transpose=LO..HI`): each epoch reads each training piece in
a key drawn from (seed, epoch, piece) alone; pitches stay in range; validation is untouched."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from mgen.core.contracts.vocabulary import build_vocab, require_vocab
from mgen.core.data import batches
from mgen.core.data.augment import transposed_counts, transposing
from mgen.core.data.prepare import prepare_data
from mgen.plugins.tokenizers.midi_notes import MidiNotesConfig, MidiNotesTokenizer

PIECES = [
    ["tempo_120", "60", "d4", "64", "d4", "t4", "67", "d4"],
    ["tempo_90", "120", "d2", "t2", "126", "d2"],  # up to +1 only
    ["tempo_100", "2", "d1", "t1", "5", "d1"],  # down to -2 only
]


def fitted(spec: str = "-5..6") -> MidiNotesTokenizer:
    tok = MidiNotesTokenizer(MidiNotesConfig(transpose=spec))
    build_vocab(tok, transposed_counts(tok, Counter(t for p in PIECES for t in p)))
    return tok


def stream_of(tok: MidiNotesTokenizer) -> np.ndarray:
    v = require_vocab(tok)
    ids = [[v.start_id, *v.encode(p), v.end_id] for p in PIECES]
    return np.asarray([i for p in ids for i in p], dtype=np.uint16)


def shifts_seen(tok: MidiNotesTokenizer, x: np.ndarray, base: np.ndarray) -> set[int]:
    """The pitch shifts between moved and original ids of one row (one piece)."""
    v = require_vocab(tok)
    moved, orig = v.decode(x.tolist()), v.decode(base.tolist())
    return {int(a) - int(b) for a, b in zip(moved, orig, strict=True) if a.isdigit()}


def test_streams_move_each_piece_by_one_allowed_shift() -> None:
    tok = fitted()
    stream = stream_of(tok)
    plain = batches.Windows(stream, 8, 3)
    moved = transposing(batches.Windows(stream, 8, 3), tok, require_vocab(tok))
    assert isinstance(moved.base, batches.Windows)  # wrapped, not converted
    assert moved.layout == batches.WINDOWS
    seen: dict[int, set[int]] = {0: set(), 1: set(), 2: set()}
    starts = np.flatnonzero(stream == require_vocab(tok).start_id)
    for epoch in range(200):
        moved.rows = moved.transposer.draw(0, epoch)
        for p, (a, b) in enumerate(zip(starts, [*starts[1:], len(stream)], strict=True)):
            idx = np.arange(a, b)
            got = shifts_seen(tok, moved.take(idx), plain.take(idx))
            assert len(got) == 1  # one shift for the whole piece
            seen[p] |= got
    assert seen[0] == set(range(-5, 7))
    assert seen[1] == set(range(-5, 2)) and seen[2] == set(range(-2, 7))  # pitches in 0..127


def test_draws_depend_on_seed_and_epoch_only() -> None:
    tok = fitted()
    a = transposing(batches.Streams(stream_of(tok), 4, 2), tok, require_vocab(tok))
    b = transposing(batches.Streams(stream_of(tok), 4, 2), tok, require_vocab(tok))
    assert (a.transposer.draw(3, 7) == b.transposer.draw(3, 7)).all()
    assert any((a.transposer.draw(3, e) != a.transposer.draw(3, 0)).any() for e in range(1, 9))
    # a resumed epoch sees exactly the batches an uninterrupted one would
    full = [(x.copy(), y.copy()) for _, (x, y) in a.epoch_batches(3, 7)]
    tail = [(x, y) for _, (x, y) in b.epoch_batches(3, 7, start=2)]
    assert all(
        (x1 == x2).all() and (y1 == y2).all()
        for (x1, y1), (x2, y2) in zip(full[2:], tail, strict=True)
    )


def test_off_by_default_and_for_non_pitched_tokenizers() -> None:
    tok = MidiNotesTokenizer()
    build_vocab(tok, Counter())
    windows = batches.Windows(stream_of(tok), 4, 2)
    assert transposing(windows, tok, require_vocab(tok)) is windows
    assert type(windows) is batches.Windows


@pytest.mark.skipif(not hasattr(batches, "PieceBatches"), reason="no whole-piece batches")
def test_whole_piece_batches_are_moved_too() -> None:
    tok = fitted("2..2")
    v = require_vocab(tok)
    pieces = [np.asarray([v.start_id, *v.encode(p), v.end_id]) for p in PIECES]
    moved = transposing(batches.PieceBatches(pieces, 16, 3), tok, v)
    [(_, (x, _y))] = list(moved.epoch_batches(0, 0))
    tokens = [v.decode(row.tolist()) for row in x]
    firsts = sorted(next(t for t in row if t.isdigit()) for row in tokens)
    # +2 where it fits; the piece reaching 126 cannot move up by 2 and stays
    assert firsts == ["120", "4", "62"]


def test_training_data_is_moved_and_validation_is_not(shared_data: Path) -> None:
    files = sorted((shared_data / "piano-midi").rglob("*.mid"), key=lambda f: f.stat().st_size)
    data = [str(f) for f in files[:6]]
    tok = MidiNotesTokenizer(MidiNotesConfig(transpose="-3..3"))
    td = prepare_data(tok, data, seq_len=32, batch_size=4, val_fraction=0.34, log=lambda m: None,
                      progress=False)  # fmt: skip
    plain_tok = MidiNotesTokenizer()
    plain = prepare_data(plain_tok, data, seq_len=32, batch_size=4, val_fraction=0.34,
                         log=lambda m: None, progress=False)  # fmt: skip
    assert [p.tolist() for p in td.val_pieces] == [p.tolist() for p in plain.val_pieces]
    x, _ = next(td.train.epoch_batches(0, 0))[1]
    x0, _ = next(plain.train.epoch_batches(0, 0))[1]
    assert x.shape == x0.shape and (x != x0).any()
