"""Where shipped (pretrained) models live: the `mgen.pretrained` entry-point group.

A package ships a trained run directory as package data and names it in this group, the value
being `package:folder` (the folder relative to the package's directory, dots for nested
folders)::

    [project.entry-points."mgen.pretrained"]
    folk-abc = "mgen.pretrained:folk_abc"

Only names and folders are found here, without importing any package; what a folder holds is
the run artifact's business (`mgen.core.runs.artifact.RunDir`).
"""

from __future__ import annotations

import importlib.util
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

__all__ = ["GROUP", "entry_points_by_name", "folder", "names", "shipped_name"]

GROUP = "mgen.pretrained"


def entry_points_by_name() -> dict[str, EntryPoint]:
    """Read afresh each time (a few ms): a package installed meanwhile is seen at once."""
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep)  # as with plugins: the first on sys.path wins
    return found


def names() -> list[str]:
    return sorted(entry_points_by_name())


def folder(ep: EntryPoint) -> Path | None:
    """The run folder an entry point names, found without importing its package."""
    package, _, sub = ep.value.partition(":")
    try:
        spec = importlib.util.find_spec(package.strip())
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(next(iter(spec.submodule_search_locations)))
    return base.joinpath(*sub.strip().split(".")) if sub.strip() else base


def shipped_name(run: Path) -> str | None:
    """The name `run` is registered under, if it is a shipped (read-only) model."""
    run = Path(run).resolve()
    for name, ep in entry_points_by_name().items():
        where = folder(ep)
        if where is not None and where.resolve() == run:
            return name
    return None
