"""The metrics file's contents: one CSV row per evaluation (the run artifact,
`mgen.core.runs.artifact.RunDir`, says where it lives; `mgen.core.training.history` draws it)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from mgen.core.contracts.errors import CheckpointError, one_line
from mgen.core.contracts.io import write_text

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


def write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=METRIC_FIELDS, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    write_text(path, buf.getvalue())


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of `path` with numbers as numbers; none when there is no such file."""
    if not path.exists():
        return []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return [{k: _num(v) for k, v in row.items()} for row in csv.DictReader(f)]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise CheckpointError(f"cannot read {path}: {one_line(e)}") from None


def best_val_loss(rows: list[dict[str, Any]]) -> float | None:
    vals = [r["val_loss"] for r in rows if isinstance(r.get("val_loss"), float)]
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
