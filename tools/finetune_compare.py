"""Fine-tuning a shipped model against training from scratch, at equal CPU time.

    python tools/finetune_compare.py                      # 200 Essen tunes, 120 CPU-s each
    python tools/finetune_compare.py --init palestrina-kern --tunes 200 --budget 120
    python tools/finetune_compare.py --init bach-midi --data ../shared/data/piano-midi \
        --tunes 100 --val-tunes 30                        # MIDI: a slice of piano-midi

Both runs train on the same `--tunes` files drawn (by `--seed`) from `--data` and validate on
the same `--val-tunes` other files (`--val-data`, so the split is identical); the budget counts
CPU seconds of the training process (`--clock cpu`), so a busy machine does not favour either.
Prints each run's best validation loss per token and per note (docs/training.md). The
fine-tuned run keeps the shipped model's vocabulary (tokens it lacks read as <unk>: their share
of the validation targets is printed too); the scratch run fits its own on the 200 tunes.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import sys
from pathlib import Path

import mgen

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "essen-deutschl-kern"


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def patterns(init: str) -> tuple[str, ...]:
    """The file patterns of the init run's tokenizer (*.krn, *.mid, ...)."""
    from mgen.core.contracts import registry
    from mgen.core.runs.pretrained import resolve_run

    plugin = json.loads((resolve_run(init) / "tokenizer.json").read_text())["plugin"]
    return tuple(registry.load("tokenizer", plugin).format.patterns)


def pick(
    data: Path, globs: tuple[str, ...], tunes: int, val_tunes: int, seed: int, out: Path
) -> tuple[Path, Path]:
    """Copy `tunes` training and `val_tunes` validation files (disjoint) into out/."""
    files = sorted({f for g in globs for f in data.rglob(g)})
    if len(files) < tunes + val_tunes:
        raise SystemExit(
            f"{data} holds {len(files)} {'/'.join(globs)} files; need {tunes + val_tunes}"
        )
    chosen = random.Random(seed).sample(files, tunes + val_tunes)
    folders = out / "train", out / "val"
    for folder, part in zip(folders, (chosen[:tunes], chosen[tunes:]), strict=True):
        folder.mkdir(parents=True)
        for i, f in enumerate(part):
            shutil.copy(f, folder / f"{i:04d}-{f.name}")
    return folders


def best(run: Path, within: float = float("inf")) -> dict[str, float]:
    """The metrics row with the lowest validation loss among those `within` CPU-s of training."""
    with (run / "metrics.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["val_loss"]]
    rows = [r for r in rows if float(r["elapsed_s"]) <= within] or rows[:1]
    row = min(rows, key=lambda r: float(r["val_loss"]))
    keys = ("val_loss", "val_nats_note", "val_unk", "step", "elapsed_s")
    return {k: float(row[k]) for k in keys}


def report(runs: dict[str, Path], budget: float) -> None:
    """Each run's best validation figures, at the whole budget and at shorter ones (its best
    row among those validated within that many CPU-s: the same run, stopped earlier)."""
    print(
        f"{'run':<32} {'val nats/token':>14} {'val nats/note':>13} {'<unk>':>7} {'best at step':>12}"
    )
    for name, path in runs.items():
        m = best(path)
        print(
            f"{name:<32} {m['val_loss']:>14.4f} {m['val_nats_note']:>13.4f} "
            f"{m['val_unk']:>7.2%} {int(m['step']):>12}"
        )
    cuts = [c for c in (10, 30, 60) if c < budget] + [budget]
    print("best val nats/token (nats/note) within " + ", ".join(f"{c:g}" for c in cuts) + " CPU-s:")
    for name, path in runs.items():
        cells = [best(path, c) for c in cuts]
        text = "  ".join(f"{m['val_loss']:.4f} ({m['val_nats_note']:.3f})" for m in cells)
        print(f"  {name:<30} {text}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--init", default="palestrina-kern", help="shipped model or run directory")
    p.add_argument("--data", type=Path, default=DATA, help="folder of files the init reads")
    p.add_argument("--tunes", type=int, default=200)
    p.add_argument("--val-tunes", type=int, default=50)
    p.add_argument("--budget", type=float, default=120.0, help="CPU seconds per run")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("runs/finetune-compare"))
    a = p.parse_args(argv)
    shutil.rmtree(a.out, ignore_errors=True)
    train, val = pick(a.data, patterns(a.init), a.tunes, a.val_tunes, a.seed, a.out / "data")
    common = dict(data=[str(train)], val_data=[str(val)], time_budget=a.budget, clock="cpu",
                  seed=a.seed, device="cpu", log=_log)  # fmt: skip
    tuned = mgen.train(out=a.out / "finetuned", init=a.init, **common)
    scratch = mgen.train(out=a.out / "scratch", tokenizer=tuned.tokenizer_name, **common)
    print(
        f"{a.tunes} training and {a.val_tunes} validation tunes of {a.data.name}, "
        f"{a.budget:g} CPU-s each (seed {a.seed})"
    )
    report({f"fine-tuned from {a.init}": tuned.path, "from scratch": scratch.path}, a.budget)


if __name__ == "__main__":
    main()
