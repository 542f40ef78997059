"""The sample section: lstm2 tokens/s for 1 and 64 samples with carried state, against the
seeds' method (re-running a 50-token window for every token) as the baseline."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
from torch import nn

from mgen.bench.common import fig, ratio
from mgen.bench.training import trainer
from mgen.core.contracts.decoder import build_decoder
from mgen.core.contracts.vocabulary import require_vocab
from mgen.core.sampling.engine import generate

if TYPE_CHECKING:
    from mgen.bench import Bench

WINDOW = 50  # the seeds' generation window


def sample(b: Bench) -> None:
    """lstm2 tokens/s, the three ways taking turns (so a change of load hits all alike)."""
    steps, wsteps = (16, 8) if b.cfg.quick else (400, 100)
    rates = alternate(b, ways(b, steps, wsteps), max(3, b.size.repeats))
    one, many, base = rates["one"], rates["many"], rates["window"]
    note = f"{steps} tokens each, temperature decoder"
    b.add("sample", "lstm2 batch 1, carried state", f"{fig(one)} tok/s",
          f"{note}; {ratio(one / base)} the baseline")  # fmt: skip
    b.add("sample", "lstm2 64 concurrent samples, carried state", f"{fig(many)} tok/s",
          f"{note}; {ratio(many / base)} the baseline")  # fmt: skip
    b.add("sample", f"lstm2 seeds' method: {WINDOW}-token window re-run per token",
          f"{fig(base)} tok/s", f"the baseline: batch 1, {wsteps} tokens")  # fmt: skip


def ways(b: Bench, steps: int, wsteps: int) -> dict[str, tuple[Callable[[], object], int]]:
    """The three ways of sampling lstm2 (the one trained in the train section, if it ran),
    each as (a call, the tokens it computes). <end> is banned: every sample runs all its steps."""
    tr = b.lstm2 or trainer(b, "lstm2", b.fastest)
    model, vocab = tr.model.eval(), require_vocab(tr.tok)
    decoder = build_decoder("temperature")

    def carried(k: int) -> Callable[[], object]:
        return lambda: generate(model, [vocab.start_id], steps=steps, num_samples=k,
                                decoder=decoder, vocab=vocab, seed=0, device=b.device,
                                stop_at_end=False)  # fmt: skip

    def window() -> object:
        return window_generate(model, steps=wsteps, decoder=decoder, device=b.device)

    return {"one": (carried(1), steps), "many": (carried(64), 64 * steps),
            "window": (window, wsteps)}  # fmt: skip


def alternate(b: Bench, calls: dict[str, tuple[Callable[[], object], int]],
              rounds: int) -> dict[str, float]:  # fmt: skip
    """Median tokens/s of each call, one warm-up each, then taking turns for `rounds`."""
    rates: dict[str, list[float]] = {key: [] for key in calls}
    for fn, _ in calls.values():
        fn()
    for _ in range(rounds):
        for key, (fn, tokens) in calls.items():
            t0 = time.perf_counter()
            fn()
            b.sync()
            rates[key].append(tokens / (time.perf_counter() - t0))
    return {key: statistics.median(r) for key, r in rates.items()}


@torch.inference_mode()
def window_generate(model: nn.Module, *, steps: int, decoder, device: torch.device) -> list[int]:
    """The seeds' way: for every new token, run the model over the last WINDOW tokens again."""
    gen = torch.Generator(device=device).manual_seed(0)
    seq = torch.zeros(1, WINDOW, dtype=torch.long, device=device)  # a primer of WINDOW tokens
    for _ in range(steps):
        logits, _ = model(seq[:, -WINDOW:])  # [1, WINDOW, V], all recomputed
        nxt = decoder(logits[:, -1].float(), gen)  # [1]
        seq = torch.cat([seq, nxt[:, None]], dim=1)
    return seq[0, WINDOW:].tolist()
