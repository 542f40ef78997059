"""lstm2 against the transformer at the same CPU budget: each trained for the same CPU seconds
(`--clock cpu`: fair on a busy machine) on folk-abc (abc-char) and on essen-deutschl-kern
(kern), scored on whole validation pieces (nats/token and nats/note, as metrics.csv and `mgen
eval --run` report), with training tokens and FLOP/s per CPU-second; then sampling tokens per
CPU-second for 1 and 64 samples with the state (cache) carried against recomputing a window for
every token. Every process runs on one thread (OMP_NUM_THREADS=1), two runs at a time at most:

    nice -n 19 python tools/compare_models.py --budget 600 [-M heads=4 -M context=256 ...]

Runs go into a temporary folder (or --keep DIR); the tables print at the end (Markdown).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mgen.core.contracts.vocabulary import require_vocab

REPO = Path(__file__).resolve().parents[1]
KERN = REPO.parent / "shared" / "data" / "essen-deutschl-kern"
#: (label, tokenizer, --data) of the two corpora.
CORPORA = (("folk-abc", "abc-char", None), ("essen-deutschl-kern", "kern", KERN))
WINDOW = 256  # the recompute baseline's window (the transformer's default context)
#: How the transformer trains, the best of a short search at 120 CPU-s on folk-abc
#: (docs/models.md): 256-token windows from an empty cache, 8 a batch.
TRANSFORMER_TRAIN = "--batching windows --seq-len 256 --batch-size 8"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=600.0, help="CPU seconds of training a run")
    parser.add_argument("-M", dest="options", action="append", default=[],
                        help="a transformer setting KEY=VALUE (the configuration compared)")  # fmt: skip
    parser.add_argument("--transformer-train", default=TRANSFORMER_TRAIN,
                        help="the transformer's `mgen train` options (default: the measured choice)")  # fmt: skip
    parser.add_argument("--models", default="lstm2,transformer")
    parser.add_argument("--corpora", default=",".join(c[0] for c in CORPORA))
    parser.add_argument("--parallel", type=int, default=2, help="runs at a time")
    parser.add_argument("--sample-steps", type=int, default=400, help="tokens a sample (past 256)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the runs in this folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mgen-compare-models-") as tmp:
        folder = args.keep or Path(tmp)
        runs = _train_all(args, folder)
        print(f"{args.budget:g} CPU-s of training a run, one thread each\n")
        _train_table(runs)
        print()
        _sample_table(runs, args.sample_steps)
    return 0


def _jobs(args: argparse.Namespace, folder: Path) -> list[tuple[str, str, list[str], Path]]:
    """(corpus, model, `mgen train` arguments, run folder) of every run."""
    jobs = []
    for label, tokenizer, data in CORPORA:
        if label not in args.corpora.split(","):
            continue
        for model in args.models.split(","):
            run = folder / f"{label}-{model}"
            cmd = ["train", "-t", tokenizer, "--model", model, "--time-budget", str(args.budget),
                   "--clock", "cpu", "--quiet", "--out", str(run)]  # fmt: skip
            cmd += ["--data", str(data)] if data else []
            if model == "transformer":
                cmd += [f"-M{o}" for o in args.options] + args.transformer_train.split()
            jobs.append((label, model, cmd, run))
    return jobs


def _train_all(args: argparse.Namespace, folder: Path) -> list[tuple[str, str, Path]]:
    """Train every run not already in `folder`, `--parallel` at a time."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    pending = [j for j in _jobs(args, folder) if not (j[3] / "metrics.csv").exists()]
    running: list[subprocess.Popen] = []
    while pending or running:
        while pending and len(running) < args.parallel:
            label, model, cmd, run = pending.pop(0)
            print(f"training {model} on {label}", file=sys.stderr, flush=True)
            log = open(folder / f"{label}-{model}.log", "w")  # noqa: SIM115 - the child's
            running.append(subprocess.Popen([sys.executable, "-m", "mgen", *cmd], env=env,
                                            stdout=log, stderr=log))  # fmt: skip
        time.sleep(2)
        for proc in [p for p in running if p.poll() is not None]:
            running.remove(proc)
            if proc.returncode:
                print(f"a run failed ({proc.returncode}): {proc.args}", file=sys.stderr)
    return [(label, model, run) for label, model, _, run in _jobs(args, folder)]


def _best(run: Path) -> tuple[dict, dict]:
    """(the lowest-validation-loss metrics row, the last row) of a run."""
    from mgen.core.training.history import read_metrics

    rows = read_metrics(run)
    return min(rows, key=lambda r: r["val_loss"]), rows[-1]


def _forward_flops(run: Path) -> float:
    """Forward FLOPs per training token of a trained model. A transformer's attention counts
    the keys a token sees: (T+1)/2 on average in causal windows from an empty cache, a full
    context with the cache carried."""
    from mgen.bench.training import flops_per_token
    from mgen.core.runs.run import load_run

    loaded = load_run(run)
    model, train = loaded.model, loaded.config["train"]
    if not hasattr(model, "flops_per_token"):
        return flops_per_token(model)
    context = model.config.context
    seq_len = loaded.config.get("seq_len") or train["seq_len"]  # the window used (0: auto)
    keys = (min(seq_len, context) + 1) / 2 if train["batching"] == "windows" else context
    return model.flops_per_token(keys)


def _train_table(runs: list[tuple[str, str, Path]]) -> None:
    print("| corpus | model | parameters | val nats/token | val nats/note | steps | training "
          "tokens | tokens/CPU-s | GFLOP/CPU-s |\n|---|---|---|---|---|---|---|---|---|")  # fmt: skip
    for label, model, run in runs:
        if not (run / "metrics.csv").exists():
            print(f"| {label} | {model} | (no figures: the run did not finish) |||||||")
            continue
        best, last = _best(run)
        config = json.loads((run / "config.json").read_text())
        rate = last["tokens"] / last["elapsed_s"]  # validation included, as budgets count it
        gflops = 3 * _forward_flops(run) * rate / 1e9  # backward: twice the forward's products
        print(f"| {label} | {model} | {config['model_parameters']:,} | {best['val_loss']:.4f} | "
              f"{best.get('val_nats_note', float('nan')):.4f} | {last['step']:,} | "
              f"{last['tokens']:,} | {rate:,.0f} | {gflops:.2f} |")  # fmt: skip


def _sample_table(runs: list[tuple[str, str, Path]], steps: int) -> None:
    """Sampling speed of the first corpus's runs, in tokens per CPU-second (one thread). The
    recompute baseline runs fewer steps (each costs a whole window), 64 samples fewer still."""
    import torch

    from mgen.core.runs.run import load_run

    torch.set_num_threads(1)
    print(f"| model (folk-abc) | samples | cached state, tok/CPU-s | recompute {WINDOW}-token "
          "window, tok/CPU-s | speed-up |\n|---|---|---|---|---|")  # fmt: skip
    first = runs[0][0]
    for _, name, path in (r for r in runs if r[0] == first and (r[2] / "metrics.csv").exists()):
        run = load_run(path)
        for k in (1, 64):
            redo = max(2, steps // (5 if k == 1 else 25))
            cached = _rate(lambda n, k=k, run=run: _cached(run, n, k), steps, k)
            window = _rate(lambda n, k=k, run=run: _window(run.model, n, k), redo, k)
            print(f"| {name} | {k} | {cached:,.0f} | {window:,.0f} | {cached / window:.1f}x |")


def _rate(fn, steps: int, k: int) -> float:
    """Tokens per CPU-second of `fn(steps)` making k samples (after a 2-step warm-up)."""
    fn(2)
    t0 = time.process_time()
    fn(steps)
    return steps * k / (time.process_time() - t0)


def _cached(run, steps: int, k: int) -> None:
    """`mgen sample`'s engine: prime with <start>, then one token a step, state carried."""
    from mgen.core.contracts.decoder import build_decoder
    from mgen.core.sampling.engine import generate

    vocab = require_vocab(run.tokenizer)
    generate(run.model, [vocab.start_id], steps=steps, num_samples=k, vocab=vocab, seed=0,
             decoder=build_decoder("multinomial", {}), stop_at_end=False)  # fmt: skip


def _window(model, steps: int, k: int) -> None:
    """No state: every token reruns the model over the last WINDOW tokens (k at a time)."""
    import torch

    seq = torch.zeros(k, WINDOW, dtype=torch.long)  # a primer of WINDOW tokens
    with torch.inference_mode():
        for _ in range(steps):
            logits, _ = model(seq[:, -WINDOW:])  # [k, WINDOW, V], all recomputed
            nxt = torch.multinomial(logits[:, -1].float().softmax(-1), 1)  # [k, 1]
            seq = torch.cat([seq, nxt], dim=1)


if __name__ == "__main__":
    sys.exit(main())
