"""The train section: tokens/s, model FLOP/s and share of the measured peak of rnn, lstm,
lstm2 and seed 002's configuration, and lstm2 against plain PyTorch with the validation loss
of each after the same batches."""

from __future__ import annotations

import math
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from mgen.bench.common import fig, percent, quiet, ratio
from mgen.core.contracts.vocab import SPECIALS, Vocab
from mgen.core.contracts.vocabulary import require_vocab
from mgen.core.data.prepare import build_tokenizer, dataset_files, prepare_data
from mgen.core.training.trainer import TrainConfig, Trainer
from mgen.plugins.tokenizers.abc_char import AbcCharTokenizer

if TYPE_CHECKING:
    from mgen.bench import Bench

SEED002 = {"embed_dim": 256, "hidden_size": 1024}  # one LSTM layer, 83 symbols
SEED002_SYMBOLS = 83
#: (model plugin, its options, the row's name) of the per-model rate rows.
MODELS = (("rnn", {}, "rnn"), ("lstm", {}, "lstm"), ("lstm", SEED002, "seed-002"))
QUICK_FILES = 8  # --quick trains on this many files of folk-abc


def flops_per_token(model: nn.Module) -> float:
    """Forward FLOPs per token of a recurrent LM (recurrent layers + output layer; 2 per MAC).
    Training costs three times this: the backward pass computes two products per forward one."""
    rnn = model.rnn
    gates = {nn.LSTM: 4, nn.GRU: 3, nn.RNN: 1}[type(rnn)]
    flops, width = 0.0, rnn.input_size
    for _ in range(rnn.num_layers):
        flops += 2 * gates * rnn.hidden_size * (width + rnn.hidden_size)
        width = rnn.hidden_size
    return flops + 2 * model.head.in_features * model.head.out_features


class PlainLSTM2(nn.Module):
    """lstm2 as plain PyTorch: embedding, nn.LSTM(2 layers, dropout 0.5), nn.Dropout, linear.
    The attribute names match mgen's model, so both start from the same weights."""

    carries_state = True  # what mgen's engine asks of a model: forward(ids, state) continues

    def __init__(self, vocab: int, embed: int = 128, hidden: int = 256, dropout: float = 0.5):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.rnn = nn.LSTM(embed, hidden, num_layers=2, batch_first=True, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids: torch.Tensor, state=None):
        y, state = self.rnn(self.embed(ids), state)
        return self.head(self.drop(y)), state


class Seed002Tokenizer(AbcCharTokenizer):
    """abc-char with seed 002's vocabulary size: its most frequent characters plus the four
    special tokens make 83 symbols; rarer characters become <unk>."""

    def fit(self, counts: Counter[str]) -> None:
        kept = [t for t, _ in counts.most_common(SEED002_SYMBOLS - len(SPECIALS))]
        self.vocab = Vocab(sorted(kept))


def prepare(b: Bench) -> None:
    """Parse (and cache) the training corpora into `b.data`, before torch's threads start:
    folk-abc for abc-char, and again for seed 002's vocabulary. --quick: a few files of it."""
    files: list[str] = []
    if b.cfg.quick:
        subset = next((d.subset for d in b.datasets if d.tokenizer == "abc-char"), None)
        files = [
            str(f)
            for f in (subset or dataset_files(str(AbcCharTokenizer.recipe.dataset), progress=False))
        ]
        files = files[:QUICK_FILES]
    for key, tok in (("abc-char", build_tokenizer("abc-char", {})),
                     ("seed-002", Seed002Tokenizer())):  # fmt: skip
        b.data[key] = prepare_data(tok, files, seq_len=b.size.seq_len,
                                   batch_size=b.size.batch_size, seed=0, log=quiet,
                                   val_fraction=TrainConfig.val_fraction, progress=False)  # fmt: skip


def trainer(b: Bench, model: str, precision: str, data: str = "abc-char",
            options: dict | None = None, plain: nn.Module | None = None) -> Trainer:  # fmt: skip
    """A trainer of the model plugin `model` (or of `plain` in its place) on `b.data[data]`."""
    cfg = TrainConfig(tokenizer="abc-char", model=model, precision=precision, seed=0,
                      device=str(b.device), batch_size=b.size.batch_size,
                      seq_len=b.size.seq_len,
                      model_options=options or {})  # fmt: skip
    return Trainer(cfg, b.tmp / "runs" / model, b.data[data], model=plain, log=quiet,
                   progress=False)  # fmt: skip


def plain_trainer(b: Bench, precision: str, like: Trainer) -> Trainer:
    """A trainer of `PlainLSTM2`, starting from the weights `like`'s lstm2 has now."""
    model = PlainLSTM2(len(require_vocab(like.tok)))
    model.load_state_dict(like.model.state_dict())
    return trainer(b, "lstm2", precision, plain=model)


def train(b: Bench) -> None:
    precisions = ["fp32"] if b.fastest == "fp32" else ["fp32", b.fastest]
    for model, options, label in MODELS:
        data = "seed-002" if options else "abc-char"
        runs = {p: trainer(b, model, p, data, options) for p in precisions}
        times, _ = interleaved(b, runs, b.size.repeats)
        rate_rows(b, label, runs, times)
    compare_lstm2(b)


def endless(windows) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The training batches, epoch after epoch."""
    epoch = 0
    while True:
        for _, xy in windows.epoch_batches(0, epoch):
            yield xy
        epoch += 1


def interleaved(b: Bench, runs: dict[str, Trainer], steps: int, warmup: int = 1):
    """Step every trainer on the same batches in turn (so load changes hit all alike).
    Returns each one's step times and the batch-building times."""
    batches = endless(next(iter(runs.values())).data.train)
    times: dict[str, list[float]] = {k: [] for k in runs}
    data: list[float] = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        x, y = next(batches)
        data.append(time.perf_counter() - t0)
        for key, tr in runs.items():
            t0 = time.perf_counter()
            tr.step(x, y)
            b.sync()
            if i >= warmup:
                times[key].append(time.perf_counter() - t0)
    return times, data[warmup:]


def rate_rows(b: Bench, label: str, runs: dict[str, Trainer], times: dict[str, list[float]],
              base: str = "fp32") -> None:  # fmt: skip
    tokens = b.size.batch_size * b.size.seq_len
    for key, tr in runs.items():
        step = statistics.median(times[key])
        gflops = 3 * flops_per_token(tr.model) * tokens / step / 1e9
        dtype = "bf16" if tr.precision in ("bf16", "fp16") else "fp32"
        peak = b.peaks.get(dtype, 0.0)
        share = f", {percent(gflops / peak)} of the {dtype} peak" if peak else ""
        if gflops > peak > 0:  # only when the machine got quieter after `peak` ran
            share += " (above it: the load changed during the run)"
        speedup = statistics.median(times[base]) / step if key != base else 1.0
        b.add("train", f"{label} {key}", f"{fig(tokens / step)} tok/s",
              f"{fig(gflops)} GFLOP/s{share}; {ratio(speedup)} {base}")  # fmt: skip


def compare_lstm2(b: Bench) -> None:
    """Plain PyTorch vs mgen, in fp32 and in mgen's fastest precision: same batches, same
    first weights, taking turns step by step."""
    mgen = {"fp32": trainer(b, "lstm2", "fp32")}
    if b.fastest != "fp32":
        mgen[b.fastest] = trainer(b, "lstm2", b.fastest)
    plain = {f"plain-{p}": plain_trainer(b, p, mgen["fp32"]) for p in mgen}
    runs = {**plain, **mgen}
    times, data = interleaved(b, runs, max(b.size.compare_steps, b.size.repeats), warmup=2)
    rate_rows(b, "lstm2", runs, times, base="plain-fp32")
    b.lstm2 = runs[b.fastest]  # sampled from in the sample section
    step, build = statistics.median(times[b.fastest]), statistics.median(data)
    b.add("train", "lstm2 batch building (numpy windows)", f"{fig(build * 1000)} ms",
          f"{percent(build / (build + step))} of a step")  # fmt: skip
    loss_rows(b, runs)


def loss_rows(b: Bench, runs: dict[str, Trainer]) -> None:
    """Each run's validation loss, computed in fp32 whatever it trained in: the figures
    compare the trained weights, not the evaluation's arithmetic."""
    losses = {key: tr.evaluate().get("val_loss", math.nan)
              for key, tr in runs.items()}  # fmt: skip
    base = losses["plain-fp32"]
    for key, loss in losses.items():
        s = runs[key].state
        note = f"after {s.tokens:,} training tokens ({s.step} steps), in fp32"
        if key != "plain-fp32":
            note += f"; {loss - base:+.4f} ({(loss - base) / base:+.2%}) vs plain-fp32"
        b.add("train", f"lstm2 {key} validation loss", f"{loss:.4f} nats", note)
