"""The memory section (peak RSS of a training run) and the threads section (a training step
alone and beside a busy process, per OMP_WAIT_POLICY), each in fresh processes."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
from torch import nn

from mgen.bench.common import fig, ratio
from mgen.bench.preprocess import BenchData
from mgen.core.contracts import registry
from mgen.core.contracts.errors import MgenError
from mgen.core.training.signals import set_threads

if TYPE_CHECKING:
    from mgen.bench import Bench

#: Seconds of steps per condition in `policy_child`: a spinning policy beside a busy process
#: can take seconds a step, and the bench must stay within minutes.
POLICY_BUDGET = 8.0
POLICIES = ("PASSIVE", "ACTIVE", "unset")


def memory(b: Bench) -> None:
    """Peak RSS of `mgen train` in a fresh process on the dataset plugin with the most tokens
    (--quick: a tiny model on a few files of the cheapest to parse)."""
    plugins = [d for d in b.datasets if d.plugin]
    if not plugins:
        b.add("memory", "training run", "skipped", "no dataset plugin available")
        return
    largest = max(plugins, key=BenchData.estimated_tokens)
    if b.cfg.quick:
        largest = next((d for d in plugins if d.tokenizer == "abc-char"), plugins[0])
    args, where, env = memory_run(b, largest)
    t0 = time.perf_counter()
    rss, out = peak_rss([sys.executable, "-m", "mgen", *args], env)
    took = time.perf_counter() - t0
    cached = "corpus cached" if "[cached]" in out else "corpus parsed first"
    item = (
        "peak RSS, tiny training run" if b.cfg.quick else "peak RSS, lstm2 training run (20 steps)"
    )
    b.add("memory", item, f"{fig(rss / 2**20)} MiB", f"{where}; {cached}; {fig(took)} s")


def memory_run(b: Bench, d: BenchData) -> tuple[list[str], str, dict[str, str] | None]:
    """The `mgen train` arguments, a description of the data, and the environment."""
    args = ["train", "--tokenizer", d.tokenizer, "--quiet", "--out", str(b.tmp / "mem-run"),
            "--checkpoint-every", "100000", "--device", str(b.device)]  # fmt: skip
    if not b.cfg.quick:
        args += ["--max-steps", "20", "--data", d.plugin]
        # The user's own corpus cache, as `mgen train` would use it.
        return args, f"{d.label}, all {len(d.files)} files (the most tokens)", b.user_env
    args += ["--max-steps", "2", "--batch-size", "4", "--seq-len", "16", "--hidden-size", "32",
             "--embed-dim", "16"]  # fmt: skip
    args += [a for f in d.subset[:4] for a in ("--data", str(f))]
    return args, f"{min(4, len(d.subset))} files of {d.label}", None


def peak_rss(cmd: list[str], env: dict[str, str] | None) -> tuple[int, str]:
    """Run `cmd` under a small wrapper that reports its largest process's peak RSS in bytes."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stdout.write(p.stdout + p.stderr)\n"
        "kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print('PEAK', kb * (1 if sys.platform == 'darwin' else 1024), p.returncode)\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], env=env, capture_output=True,
                         text=True, check=False)  # fmt: skip
    last = out.stdout.strip().splitlines()[-1].split() if out.stdout.strip() else []
    if len(last) != 3 or last[0] != "PEAK" or last[2] != "0":
        raise MgenError(f"training run for the memory figure failed: {out.stdout[-300:]}")
    return int(last[1]), out.stdout


def threads(b: Bench) -> None:
    """An lstm2 training step in a fresh process per wait policy (OpenMP reads it as it
    starts): timed alone, then beside a busy-looping process it starts itself. Policies:
    passive (mgen's default), active, and unset: libgomp then spins ~300,000 times at every
    barrier before sleeping, which is what plain PyTorch gets."""
    results = {policy: policy_steps(b, policy) for policy in POLICIES}
    base = results["PASSIVE"][0]
    for policy, (alone, busy) in results.items():
        name = f"lstm2 {b.fastest} step, OMP_WAIT_POLICY {policy}"
        b.add("threads", f"{name}, alone", f"{fig(alone * 1000)} ms",
              f"{ratio(alone / base)} PASSIVE alone")  # fmt: skip
        b.add("threads", f"{name}, beside a busy process", f"{fig(busy * 1000)} ms",
              f"{ratio(busy / alone)} its time alone, {ratio(busy / base)} PASSIVE alone")  # fmt: skip


def policy_steps(b: Bench, policy: str) -> tuple[float, float]:
    """(alone, beside a busy process) median step seconds in a fresh process under `policy`."""
    spec = json.dumps({"batch": b.size.batch_size, "seq": b.size.seq_len,
                       "precision": b.fastest, "steps": max(3, b.size.repeats),
                       "quick": b.cfg.quick})  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy != "unset":
        env["OMP_WAIT_POLICY"] = policy
    # torch first: OpenMP reads the policy as it loads, before importing mgen could set one.
    code = f"import torch\nfrom mgen.bench import policy_child\npolicy_child({spec!r})"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=False)  # fmt: skip
    if out.returncode:
        raise MgenError(f"thread-policy measurement failed: {out.stderr.strip()[-300:]}")
    alone, busy = map(float, out.stdout.strip().splitlines()[-1].split())
    return alone, busy


def policy_child(spec: str) -> None:
    """In a fresh process: print the median seconds of an lstm2 training step (cpu) alone, then
    beside a busy-looping process."""
    s = json.loads(spec)
    set_threads()
    step = lstm2_step(s["batch"], s["seq"], s["precision"], s["quick"])
    alone = budgeted_median(step, s["steps"])
    competitor = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)  # let it start spinning
        busy = budgeted_median(step, s["steps"])
    finally:
        competitor.kill()
        competitor.wait()
    print(alone, busy)


def lstm2_step(batch: int, seq: int, precision: str, quick: bool) -> Callable[[], None]:
    """One plain training step of lstm2 on random ids (cpu), as a call."""
    options = {"hidden_size": 32, "embed_dim": 16} if quick else {}
    model = registry.load("model", "lstm2")
    net = model(model.Config.from_dict({**options, "vocab_size": 100}))
    opt = torch.optim.Adam(net.parameters())
    x = torch.randint(0, 100, (batch, seq + 1))
    dtype = torch.bfloat16 if precision == "bf16" else None

    def step() -> None:
        with torch.autocast("cpu", dtype=dtype, enabled=dtype is not None):
            logits, _ = net(x[:, :-1])
        loss = nn.functional.cross_entropy(logits.float().flatten(0, 1), x[:, 1:].flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def budgeted_median(fn: Callable[[], object], repeats: int) -> float:
    """Median seconds of up to `repeats` calls after a warm-up, stopping at POLICY_BUDGET."""
    fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < repeats and (not times or time.perf_counter() - start < POLICY_BUDGET):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
