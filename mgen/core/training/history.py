"""A run's training history: its metrics (one row per evaluation; the file is the run
artifact's, `mgen.core.runs.artifact.RunDir`) and its loss curve."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mgen.core.contracts.errors import MgenError
from mgen.core.contracts.io import atomic_path
from mgen.core.runs.artifact import CURVE, METRICS, RunDir
from mgen.core.runs.metrics import METRIC_FIELDS

__all__ = ["CURVE", "METRICS", "METRIC_FIELDS", "best_val_loss", "plot_loss", "read_metrics",
           "write_metrics"]  # fmt: skip


def write_metrics(run: Path, rows: list[dict[str, Any]]) -> None:
    RunDir(run).write_metrics(rows)


def read_metrics(run: Path) -> list[dict[str, Any]]:
    return RunDir(run).read_metrics()


def best_val_loss(run: Path) -> float | None:
    return RunDir(run).best_val_loss()


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
        with atomic_path(RunDir(run).curve) as tmp:
            fig.savefig(tmp, format="png")
    except MgenError:
        raise
    finally:
        plt.close(fig)
