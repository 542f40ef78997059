"""Shipped (pretrained) models: run directories that installed packages register by name in
the `mgen.pretrained` entry-point group (`mgen.core.runs.shipped` says how).

Listing reads files only: no package is imported and torch is not needed. A shipped run is
read-only: samples drawn from it go to the current folder (see `Run.write`).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import EntryPoint
from pathlib import Path

from mgen.core.contracts.errors import CheckpointError
from mgen.core.runs.artifact import RunDir
from mgen.core.runs.shipped import GROUP, entry_points_by_name, folder, names, shipped_name

__all__ = ["GROUP", "CheckpointError", "Pretrained", "list_pretrained", "names", "resolve_run",
           "shipped_name"]  # fmt: skip


@dataclass(frozen=True)
class Pretrained:
    """One registered model; `error` says why it cannot be used (then other fields may be '')."""

    name: str
    path: Path | None
    tokenizer: str
    model: str
    description: str
    distribution: str
    version: str
    error: str | None = None


def list_pretrained() -> list[Pretrained]:
    """Every registered model, sorted by name; a damaged one carries its reason in `error`."""
    return [_describe(name, ep) for name, ep in sorted(entry_points_by_name().items())]


def resolve_run(name_or_path: str | Path) -> Path:
    """A run directory's absolute path, or a shipped model's folder (`RunDir.resolve`)."""
    return RunDir.resolve(name_or_path).path


def _describe(name: str, ep: EntryPoint) -> Pretrained:
    dist, version = (ep.dist.name, ep.dist.version) if ep.dist else ("?", "?")
    where = folder(ep)
    if where is None or not where.is_dir():
        why = f"{ep.value} is not an installed package folder"
        return Pretrained(name, where, "", "", "", dist, version, error=why)
    run = RunDir(where)
    try:
        config = run.check_whole()
    except CheckpointError as e:
        return Pretrained(name, where, "", "", "", dist, version, error=str(e))
    tok, model = str(config.get("tokenizer", "?")), str(config.get("model", "?"))
    return Pretrained(name, where, tok, model, run.description(), dist, version)
