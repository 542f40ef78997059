"""The training-recipe measurements of docs/performance.md ("Training recipe"): lstm2 trained
for the same CPU time (`--clock cpu`: fair on a busy machine) with one lever changed at a time, scored on whole validation
pieces (nats/token and nats/note). Run on a quiet machine:

    python tools/recipe.py --budget 300 [--data folk-abc] [--tokenizer abc-char] [--only NAME]

Each row is one run in a temporary folder; the table prints at the end (Markdown).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

#: name -> overrides of the defaults (lanes with the state carried, 64-token windows, constant
#: rate); each "+" row changes one lever of those defaults.
LEVERS: dict[str, dict] = {
    "0.1: shuffled windows, zero state, constant lr": {
        "batching": "windows", "seq_len": 128, "lr_schedule": "constant", "warmup_steps": 0,
    },
    "whole pieces, state reset at each start": {"batching": "pieces"},
    "lanes, state carried across pieces (default)": {},
    "+ warm-up 100 and cosine decay to 10%": {"lr_schedule": "cosine", "warmup_steps": 100},
    "+ AdamW weight decay 0.01": {"weight_decay": 0.01},
    "+ embedding dropout 0.1": {"model_options": {"embed_dropout": 0.1}},
    "+ tied embedding/output (embed 256)": {
        "model_options": {"embed_dim": 256, "tie_weights": True},
    },
    "+ windows of 128 tokens (0.1's length)": {"seq_len": 128},
}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=300.0,
                        help="CPU seconds of training a row (all threads: ~half on 2 cores)")  # fmt: skip
    parser.add_argument("--tokenizer", default="abc-char")
    parser.add_argument("--data", action="append", default=None, help="default: the tokenizer's")
    parser.add_argument("--only", action="append", default=None, help="run only these rows")
    args = parser.parse_args(argv)
    import mgen

    rows = []
    with tempfile.TemporaryDirectory(prefix="mgen-recipe-") as tmp:
        for i, (name, overrides) in enumerate(LEVERS.items()):
            if args.only and not any(o in name for o in args.only):
                continue
            t0 = time.perf_counter()
            run = mgen.train(tokenizer=args.tokenizer, model="lstm2", data=args.data or [],
                             time_budget=args.budget, clock="cpu", out=Path(tmp) / f"r{i}",
                             **overrides)  # fmt: skip
            rows.append((name, _best(run.path), time.perf_counter() - t0))
            print(f"{name}: {rows[-1][1]}", file=sys.stderr, flush=True)
    print("| lever | val nats/token | val nats/note | steps | tokens |\n|---|---|---|---|---|")
    for name, best, _ in rows:
        print(f"| {name} | {best['val_loss']:.4f} | {best.get('val_nats_note', float('nan')):.4f}"
              f" | {best['step']} | {best['tokens']:,} |")  # fmt: skip
    return 0


def _best(run: Path) -> dict:
    from mgen.core.training.history import read_metrics

    rows = [r for r in read_metrics(run) if isinstance(r.get("val_loss"), float)]
    return min(rows, key=lambda r: r["val_loss"])


if __name__ == "__main__":
    raise SystemExit(main())
