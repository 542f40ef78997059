"""A run's training history: metrics.csv (one row per evaluation) and its loss curve."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from mgen.core.contracts.errors import CheckpointError, MgenError, one_line
from mgen.core.contracts.io import atomic_path, write_text

METRICS, CURVE = "metrics.csv", "loss.png"
METRIC_FIELDS = [
    "epoch",
    "step",
    "tokens",
    "train_loss",
    "train_bits",
    "val_loss",
    "val_bits",
    "val_acc",
    "val_nats_note",
    "val_bits_note",
    "val_unk",
    "lr",
    "elapsed_s",
    "tokens_per_s",
]


def write_metrics(run: Path, rows: list[dict[str, Any]]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=METRIC_FIELDS, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    write_text(run / METRICS, buf.getvalue())


def read_metrics(run: Path) -> list[dict[str, Any]]:
    path = run / METRICS
    if not path.exists():
        return []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return [{k: _num(v) for k, v in row.items()} for row in csv.DictReader(f)]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise CheckpointError(f"cannot read {path}: {one_line(e)}") from None


def best_val_loss(run: Path) -> float | None:
    vals = [r["val_loss"] for r in read_metrics(run) if isinstance(r.get("val_loss"), float)]
    return min(vals) if vals else None


def _num(v: str | None) -> Any:
    if not isinstance(v, str):  # a short or long row of a hand-edited file: None or a list
        return v
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v


def plot_loss(run: Path, rows: list[dict[str, Any]], title: str) -> None:
    """loss.png: training and validation loss against steps."""
    if not rows:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.plot(steps, [r["train_loss"] for r in rows], marker="o", label="train")
    val = [(r["step"], r["val_loss"]) for r in rows if isinstance(r.get("val_loss"), float)]
    if val:
        ax.plot(*zip(*val, strict=True), marker="o", label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    try:
        with atomic_path(run / CURVE) as tmp:
            fig.savefig(tmp, format="png")
    except MgenError:
        raise
    finally:
        plt.close(fig)
