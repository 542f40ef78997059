"""Long context: training lanes with the state carried, whole-piece scoring, honest sampling.

Small synthetic corpora make each property checkable in seconds. In the key task a piece
repeats its key (a or b) every PERIOD tokens, with filler between; the first key of a training
window can only be predicted from an earlier window, so only a model that carries its state
across windows gets it right.
"""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pytest
import torch

from mgen.core.contracts.decoder import build_decoder
from mgen.core.contracts.model import SequenceModel, build_model
from mgen.core.contracts.vocab import Vocab
from mgen.core.contracts.vocabulary import build_vocab, require_vocab
from mgen.core.data.batches import (
    Streams,
    drop_duplicates,
    piece_arrays,
    split_pieces,
    token_stream,
)
from mgen.core.data.corpus import Corpus
from mgen.core.data.prepare import TrainData
from mgen.core.sampling.engine import default_repetition, generate
from mgen.core.sampling.scoring import score_pieces
from mgen.core.training.train_config import TrainConfig
from mgen.core.training.trainer import Trainer
from mgen.plugins.tokenizers.abc_char import AbcCharTokenizer

PERIOD = 3  # a key every PERIOD tokens
SEQ = 6  # training window: each holds one or two keys, the first one's source is outside


def _corpus(pieces: list[list[str]], files: list[int] | None = None) -> Corpus:
    tokens = sorted({t for p in pieces for t in p})
    index = {t: i for i, t in enumerate(tokens)}
    ids = np.asarray([index[t] for p in pieces for t in p], dtype=np.uint16)
    offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
    np.cumsum([len(p) for p in pieces], out=offsets[1:])
    files = files if files is not None else list(range(len(pieces)))
    return Corpus(tokens, ids, offsets, np.asarray(files, dtype=np.int32),
                  [f"f{i}" for i in sorted(set(files))])  # fmt: skip


def _key_pieces(n: int, seed: int) -> list[list[str]]:
    """Each piece: its key (a or b) then PERIOD-1 x's, eight times over."""
    rng = np.random.default_rng(seed)
    return [[k, *["x"] * (PERIOD - 1)] * 8 for k in rng.choice(["a", "b"], size=n)]


def _data(batching: str) -> TrainData:
    corpus = _corpus(_key_pieces(200, 0))
    tok = AbcCharTokenizer()
    vocab = build_vocab(tok, corpus.counts(range(len(corpus))))
    from mgen.core.data.batches import PieceBatches, Windows

    ids = np.arange(len(corpus))
    stream = token_stream(corpus, ids, vocab)
    if batching == "pieces":
        train = PieceBatches(piece_arrays(corpus, ids, vocab), SEQ, 32)
    elif batching == "piece-lanes":  # as prepare_data lays them out: each piece opens a window
        train = Streams(token_stream(corpus, ids, vocab, align=SEQ), SEQ, 32, aligned=True)
    elif batching == "lanes":
        train = Streams(stream, SEQ, 32)
    else:
        train = Windows(stream, SEQ, 32)
    val_corpus = _corpus(_key_pieces(40, 1))
    val = piece_arrays(val_corpus, np.arange(len(val_corpus)), vocab)
    return TrainData(tok, train, val, None, SEQ)


def _train(data: TrainData, tmp_path: Path, steps: int, **cfg) -> Trainer:
    config = TrainConfig(model="lstm", max_steps=steps, lr=1e-2, warmup_steps=0, device="cpu",
                         precision="fp32", model_options={"hidden_size": 48, "embed_dim": 8},
                         **cfg)  # fmt: skip
    tr = Trainer(config, tmp_path / "run", data, log=lambda _: None, progress=False)
    tr.fit()
    return tr


def _first_key_accuracy(tr: Trainer, data: TrainData, carried: bool) -> float:
    """Each validation piece read from its start in windows of SEQ tokens (the state carried
    from window to window, or each window from an empty state): how often the model predicts a
    window's first key right, when that key is not its piece's first (which nothing tells)."""
    vocab = require_vocab(data.tokenizer)
    keys = {vocab.index["a"], vocab.index["b"]}
    hits = total = 0
    model = tr.model.eval()
    with torch.no_grad():
        for piece in data.val_pieces:
            state = None
            for start in range(0, len(piece) - 1, SEQ):
                x = torch.from_numpy(piece[None, start : start + SEQ])
                logits, state = model(x, state if carried else None)
                y = piece[start + 1 : start + SEQ + 1]
                first = next((j for j in range(len(y)) if y[j] in keys), None)
                if first is None or start + first == 0:  # none, or the piece's own first key
                    continue
                hits += int(logits[0, first].argmax()) == int(y[first])
                total += 1
    return hits / total


def test_streams_are_contiguous_lanes_that_continue_across_batches():
    stream = np.arange(40, dtype=np.uint16)
    s = Streams(stream, seq_len=3, batch_size=4)
    assert s.lane_len == 10 and s.batches_per_epoch() == 3
    off = s.offset(seed=0, epoch=0)
    batches = [b for _, b in s.epoch_batches(0, 0)]
    x0, y0 = batches[0]
    lanes = (off + np.arange(4)[:, None] * 10 + np.arange(3)) % 40
    assert np.array_equal(x0, lanes) and np.array_equal(y0, (lanes + 1) % 40)
    for (x, _), (x_next, _) in zip(batches, batches[1:], strict=False):
        assert np.array_equal(x_next[:, 0], (x[:, -1] + 1) % 40)  # each lane goes on
    assert s.offset(0, 1) != off or s.offset(0, 2) != off  # epochs start elsewhere
    assert [b for b, _ in s.epoch_batches(0, 0, start=2)] == [2]


def test_aligned_lanes_open_every_piece_at_a_window_and_predict_nothing_after_its_end():
    corpus = _corpus([["a"] * 5, ["b"] * 9, ["a", "b"]])  # 7, 11 and 4 tokens with <start>/<end>
    vocab = Vocab(["a", "b"])
    stream = token_stream(corpus, range(3), vocab, align=4)
    assert len(stream) == 8 + 12 + 4
    assert np.flatnonzero(stream == vocab.start_id).tolist() == [0, 8, 20]
    assert stream[7] == vocab.pad_id and stream[18:20].tolist() == [vocab.end_id, vocab.pad_id]
    s = Streams(stream, seq_len=4, batch_size=2, aligned=True)
    assert s.lane_len == 12 and s.batches_per_epoch() == 3
    for epoch in range(6):
        assert s.offset(0, epoch) % 4 == 0
        for _, (x, y) in s.epoch_batches(0, epoch):
            assert not (x[:, 1:] == vocab.start_id).any()  # a piece starts only a window
            after_end = (x == vocab.end_id) | (x == vocab.pad_id)
            assert (y[after_end] == vocab.pad_id).all()  # not a target
            assert (y[~after_end] != vocab.start_id).all()


def test_reset_rows_empties_only_the_rows_that_open_a_piece():
    model = build_model("lstm2", {"vocab_size": 6, "hidden_size": 4, "embed_dim": 3}).eval()
    _, state = model(torch.randint(4, 6, (3, 5)))  # (h, c), each [2 layers, 3 rows, 4]
    out = model.reset_rows(state, torch.tensor([False, True, False]))
    for before, after in zip(state, out, strict=True):
        assert torch.equal(after[:, 1], torch.zeros_like(after[:, 1]))
        assert torch.equal(after[:, [0, 2]], before[:, [0, 2]])
    fresh, _ = model(torch.tensor([[1, 4]]))  # from nothing
    again, _ = model(torch.tensor([[1, 4]]), tuple(t[:, 1:2] for t in out))  # from row 1
    assert torch.allclose(fresh, again)


@pytest.mark.slow
@pytest.mark.parametrize("batching", ["pieces", "lanes", "piece-lanes"])
def test_carried_state_learns_context_beyond_the_window_and_windows_cannot(tmp_path, batching):
    stateful = _data(batching)
    carried = _train(stateful, tmp_path / "a", 600)
    windows = _data("windows")
    zero = _train(windows, tmp_path / "b", 600, batching="windows")
    assert _first_key_accuracy(carried, stateful, carried=True) > 0.95
    assert _first_key_accuracy(zero, windows, carried=False) < 0.7  # chance: 0.5


def test_resume_with_carried_state_is_exact(tmp_path):
    data = _data("piece-lanes")
    straight = _train(data, tmp_path / "a", 12, lr_schedule="constant", checkpoint_every=100)
    first = _train(data, tmp_path / "b", 6, lr_schedule="constant", checkpoint_every=100)
    assert first.carry  # the lanes' state at step 6
    config = TrainConfig(**{**first.cfg.to_dict(), "max_steps": 12})
    resumed = Trainer(config, tmp_path / "b" / "run", data, log=lambda _: None, progress=False)
    resumed.restore()
    assert resumed.carry.keys() == first.carry.keys()
    for a, b in zip(resumed.carry[0], first.carry[0], strict=True):
        assert torch.equal(a, b)  # the lanes' state came back from the checkpoint
    resumed.fit()
    for key, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key


def test_piece_batches_read_whole_pieces_from_a_fresh_state():
    from mgen.core.data.batches import PieceBatches

    pieces = [np.arange(1, n + 1) for n in (5, 12, 3, 9)]  # lengths 5, 12, 3, 9
    pb = PieceBatches(pieces, seq_len=4, batch_size=2)
    # Grouped by length: (3, 5) and (9, 12); windows: ceil(4/4)=1 and ceil(11/4)=3.
    assert [len(g) for g in pb.groups] == [2, 2] and pb.windows == [1, 3]
    assert pb.batches_per_epoch() == 4
    plan = pb.plan(seed=0, epoch=0)
    assert sorted(plan) == [(0, 0), (1, 0), (1, 1), (1, 2)]
    assert [pb.carry_plan(0, 0, b) for b in range(4)] == [
        (g, c == 0, c == pb.windows[g] - 1) for g, c in plan
    ]
    x, y = pb.batch(1, 2)  # the third window of the 9- and 12-token pieces
    assert x.tolist() == [[9, 0, 0, 0], [9, 10, 11, 12]]  # padded with <pad> = 0
    assert y.tolist() == [[0, 0, 0, 0], [10, 11, 12, 0]]  # a piece's last token predicts nothing
    got = {tuple(pb.batch(*plan[b])[0][0]) for b in range(4)}
    assert got == {tuple(b) for b in (pb.batch(g, c)[0][0] for g, c in plan)}
    assert [b for b, _ in pb.epoch_batches(0, 0, start=3)] == [3]


@pytest.mark.parametrize("chunk", [1, 5, 16])
def test_chunked_scoring_equals_one_unchunked_pass(chunk):
    torch.manual_seed(0)
    model = build_model("lstm2", {"vocab_size": 12, "hidden_size": 16, "embed_dim": 8})
    rng = np.random.default_rng(0)
    pieces = [np.r_[1, rng.integers(4, 12, size=n), 2] for n in (3, 30, 17, 8, 40)]
    whole = score_pieces(model, pieces, torch.device("cpu"), unk_id=3, chunk=10_000)
    chunked = score_pieces(model, pieces, torch.device("cpu"), unk_id=3, chunk=chunk,
                           batch_size=2)  # fmt: skip
    assert chunked.tokens == whole.tokens == sum(len(p) - 1 for p in pieces)
    assert chunked.nats == pytest.approx(whole.nats, rel=1e-5)
    # ... and a piece alone in one call gives its share: padding never leaks in.
    alone = sum(
        score_pieces(model, [p], torch.device("cpu"), unk_id=3, chunk=10_000).nats for p in pieces
    )
    assert whole.nats == pytest.approx(alone, rel=1e-5)


def test_split_keeps_a_files_pieces_together_and_drops_duplicates():
    files = np.repeat(np.arange(10), 4)  # 10 files of 4 voices
    train, val = split_pieces(40, 0.2, seed=3, groups=files)
    assert len(val) >= 8 and not set(files[train]) & set(files[val])
    corpus = _corpus([["a", "b"], ["c"], ["a", "b"], ["d"]])
    kept, dropped = drop_duplicates(corpus, np.array([0, 1]), np.array([2, 3]))
    assert list(kept) == [3] and dropped == 1


class _Fixed(SequenceModel):
    """The same next-token distribution at every step, whatever came before."""

    def __init__(self, logits: torch.Tensor):
        super().__init__(SequenceModel.Config(vocab_size=len(logits)))
        self.logits = logits

    def forward(self, ids, state=None):
        return self.logits.expand(*ids.shape, -1).clone(), state


def test_multinomial_samples_the_models_distribution_with_the_defaults():
    vocab = Vocab(["p", "q", "r", "s"])
    logits = torch.tensor([0.0, 0.0, -30.0, 0.0, 1.5, 0.5, 0.0, -1.0])  # pad start END unk p..s
    [sample] = generate(_Fixed(logits), [vocab.start_id], steps=20_000, num_samples=1,
                        decoder=build_decoder("multinomial"), vocab=vocab, seed=0,
                        repetition=default_repetition("multinomial"))  # fmt: skip
    counts = collections.Counter(sample)
    allowed = torch.tensor([4, 5, 6, 7])
    expected = torch.softmax(logits[allowed], 0)
    for token, p in zip(allowed.tolist(), expected.tolist(), strict=True):
        assert counts[token] / len(sample) == pytest.approx(p, abs=0.012), token


def test_a_samples_draws_do_not_depend_on_how_many_are_made():
    torch.manual_seed(0)
    model = build_model("lstm", {"vocab_size": 10, "hidden_size": 16, "embed_dim": 8})
    vocab = Vocab(list("abcdef"))
    runs = [
        generate(
            model,
            [1],
            steps=30,
            num_samples=k,
            decoder=build_decoder("multinomial"),
            vocab=vocab,
            seed=5,
        )  # fmt: skip
        for k in (1, 3)
    ]
    assert runs[0][0] == runs[1][0]
