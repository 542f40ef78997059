"""The latency section: what a player waits for. For each shipped model, the time between two
tokens of one stream at batch 1 through the streaming API (`mgen.core.runs.live`: the model
step, the grammar's mask, the decoder, the notes read every few tokens) as p50 / p95 / p99,
beside the model's step alone timed in a loop; the time to its first final note; then many
streams at once (threads, each its own stream, as many as a server would run), with their
p95 and how many were lost (an error, or no end) or stalled (a gap of STALL_SECONDS or more).
The page's own time to the first note: docs/web.md."""

from __future__ import annotations

import statistics
import threading
import time
from typing import TYPE_CHECKING

import numpy as np
import torch

from mgen.bench.common import fig
from mgen.core.runs import shipped
from mgen.core.runs.live import stream
from mgen.core.runs.run import Run, load_run
from mgen.core.sampling.stream import Finished, Note, Token

if TYPE_CHECKING:
    from mgen.bench import Bench

STALL_SECONDS = 1.0  # a gap this long between two tokens of a stream counts as a stall
CONCURRENT = 50  # streams at once
CONCURRENT_MODEL = "bach-midi"  # the model the concurrent streams sample (a MIDI model: play-along)


def latency(b: Bench) -> None:
    """Per-token latency of each shipped model, then CONCURRENT streams at once."""
    tokens, seeds, streams = (16, 1, 4) if b.cfg.quick else (500, 3, CONCURRENT)
    for name in shipped.names():
        run = load_run(name, "cpu")
        gaps, firsts = one_by_one(run, tokens, seeds)
        alone = model_steps(run, tokens * seeds)
        b.add("latency", f"{name}: per token, stream at batch 1 (p50 / p95 / p99)", _ms(gaps),
              f"{len(gaps)} tokens, temperature decoder, grammar on; the model step alone: "
              f"{_ms(alone)}")  # fmt: skip
        b.add("latency", f"{name}: first final note of a stream",
              f"{fig(1000 * statistics.median(firsts))} ms", f"median of {seeds}")  # fmt: skip
    if CONCURRENT_MODEL in shipped.names():
        concurrent(b, load_run(CONCURRENT_MODEL, "cpu"), streams, tokens)


def one_by_one(run: Run, tokens: int, seeds: int) -> tuple[list[float], list[float]]:
    """Seconds between consecutive tokens of `seeds` streams (one warm-up stream first), and
    each stream's seconds from its start to its first note."""
    _consume(run, 0, min(tokens, 32))
    gaps, firsts = [], []
    for seed in range(1, seeds + 1):
        mine, first, _ = _consume(run, seed, tokens)
        gaps += mine
        firsts.append(first)
    return gaps, firsts


def _consume(run: Run, seed: int, tokens: int) -> tuple[list[float], float, bool]:
    """(the gaps between tokens, the seconds to the first note, whether it finished)."""
    gaps, first, finished = [], float("nan"), False
    start = last = time.perf_counter()
    for event in stream(run, [], tokens, "temperature", seed=seed):
        now = time.perf_counter()
        if isinstance(event, Token):
            if event.index:
                gaps.append(now - last)
            last = now
        elif isinstance(event, Note) and first != first:  # NaN: none yet
            first = now - start
        elif isinstance(event, Finished):
            finished = True
    return gaps, (first if first == first else time.perf_counter() - start), finished


@torch.inference_mode()
def model_steps(run: Run, steps: int) -> list[float]:
    """Seconds of each of `steps` model steps at batch 1, the state carried: x [1, 1]."""
    x = torch.tensor([[run.tokenizer.vocab.start_id]], device=run.device)  # type: ignore[union-attr]
    _, state = run.model(x, None)
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        _, state = run.model(x, state)
        times.append(time.perf_counter() - t0)
    return times


def concurrent(b: Bench, run: Run, streams: int, tokens: int) -> None:
    """`streams` streams of `tokens` at once, one thread each, all started together."""
    results: list[tuple[list[float], float, bool] | None] = [None] * streams
    go = threading.Barrier(streams)

    def work(i: int) -> None:
        go.wait()
        try:
            results[i] = _consume(run, 100 + i, tokens)
        except Exception:  # noqa: BLE001 - a stream that fails is counted as lost
            results[i] = None

    threads = [threading.Thread(target=work, args=(i,)) for i in range(streams)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    done = [r for r in results if r is not None and r[2]]
    gaps = [g for r in done for g in r[0]]
    stalled = sum(1 for r in done if r[0] and max(r[0]) >= STALL_SECONDS)
    b.add("latency", f"{run.shipped}: {streams} concurrent streams, per token (p50 / p95 / p99)",
          _ms(gaps), f"{len(gaps)} tokens in {wall:.1f} s ({fig(len(gaps) / wall)} tok/s in "
          f"all); lost {streams - len(done)}, stalled (a gap >= {STALL_SECONDS:g} s) "
          f"{stalled}")  # fmt: skip


def _ms(seconds: list[float]) -> str:
    """p50 / p95 / p99 of `seconds`, in ms."""
    if not seconds:
        return "none"
    p = np.percentile(np.asarray(seconds) * 1000, [50, 95, 99])
    return " / ".join(fig(float(v)) for v in p) + " ms"
