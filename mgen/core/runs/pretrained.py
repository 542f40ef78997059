"""Shipped (pretrained) models: run directories that installed packages register by name.

A package ships a trained run directory as package data and names it in the `mgen.pretrained`
entry-point group, the value being `package:folder` (the folder relative to the package's
directory, dots for nested folders)::

    [project.entry-points."mgen.pretrained"]
    folk-abc = "mgen.pretrained:folk_abc"

Listing reads files only: no package is imported and torch is not needed. A shipped run is
read-only: samples drawn from it go to the current folder (see `Run.write`).
"""

from __future__ import annotations

import importlib.util
import json
import struct
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from mgen.core.contracts.errors import CheckpointError

__all__ = ["GROUP", "Pretrained", "list_pretrained", "resolve_run", "shipped_name"]

GROUP = "mgen.pretrained"
#: The files a shipped run must have (optimizer state and checkpoints are left out).
REQUIRED = ("config.json", "tokenizer.json", "model.safetensors")
CARD = "MODEL.md"


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


def _entry_points() -> dict[str, EntryPoint]:
    """Read afresh each time (a few ms): a package installed meanwhile is seen at once."""
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep)  # as with plugins: the first on sys.path wins
    return found


def names() -> list[str]:
    return sorted(_entry_points())


def list_pretrained() -> list[Pretrained]:
    """Every registered model, sorted by name; a damaged one carries its reason in `error`."""
    return [_describe(name, ep) for name, ep in sorted(_entry_points().items())]


def resolve_run(name_or_path: str | Path) -> Path:
    """A run directory's absolute path: `name_or_path` itself when it holds a run (a missing
    `runs/latest` link falls back to `latest.txt`), else the shipped model of that name."""
    path = Path(name_or_path)
    if not path.exists() and path.name == "latest" and path.with_suffix(".txt").exists():
        path = path.parent / path.with_suffix(".txt").read_text().strip()
    if (path / REQUIRED[0]).is_file():
        return path.resolve()
    name = str(name_or_path)
    if name in _entry_points():
        info = _describe(name, _entry_points()[name])
        if info.error or info.path is None:
            raise CheckpointError(f"shipped model {name!r} is damaged: {info.error}")
        return info.path
    if path.name == "latest":
        raise CheckpointError(
            f"no run directory at {path} (train one with `mgen train`, or pass --run DIR "
            "or a shipped model's name)"
        )
    available = ", ".join(names()) or "(none installed)"
    raise CheckpointError(
        f"no run directory at {path}, nor a shipped model of that name; shipped models: "
        f"{available} (see `mgen models`)"
    )


def shipped_name(run: Path) -> str | None:
    """The name `run` is registered under, if it is a shipped (read-only) model."""
    run = Path(run).resolve()
    for name, ep in _entry_points().items():
        folder = _folder(ep)
        if folder is not None and folder.resolve() == run:
            return name
    return None


def _folder(ep: EntryPoint) -> Path | None:
    """The run folder an entry point names, found without importing its package."""
    package, _, folder = ep.value.partition(":")
    try:
        spec = importlib.util.find_spec(package.strip())
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(next(iter(spec.submodule_search_locations)))
    return base.joinpath(*folder.strip().split(".")) if folder.strip() else base


def _describe(name: str, ep: EntryPoint) -> Pretrained:
    dist, version = (ep.dist.name, ep.dist.version) if ep.dist else ("?", "?")
    folder = _folder(ep)
    if folder is None or not folder.is_dir():
        why = f"{ep.value} is not an installed package folder"
        return Pretrained(name, folder, "", "", "", dist, version, error=why)
    try:
        config = _check(folder)
    except CheckpointError as e:
        return Pretrained(name, folder, "", "", "", dist, version, error=str(e))
    tok, model = str(config.get("tokenizer", "?")), str(config.get("model", "?"))
    return Pretrained(name, folder, tok, model, _card_line(folder), dist, version)


def _check(folder: Path) -> dict:
    """config.json, after checking that the run's files are there and whole."""
    for file in REQUIRED:
        if not (folder / file).is_file():
            raise CheckpointError(f"missing {folder / file}")
    jsons = [_read_json(folder / f) for f in REQUIRED[:2]]
    _check_safetensors(folder / REQUIRED[2])
    return jsons[0]


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"cannot read {path}: {e}") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} is not a JSON object")
    return data


def _check_safetensors(path: Path) -> None:
    """The header is readable and the tensors it lists fit in the file (not truncated)."""
    size = path.stat().st_size
    try:
        with path.open("rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            if length > size - 8:
                raise ValueError("header longer than the file")
            header = json.loads(f.read(length))
        end = max((t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"),
                  default=0)  # fmt: skip
    except (OSError, struct.error, ValueError, KeyError, TypeError, IndexError) as e:
        raise CheckpointError(f"cannot read weights {path}: not a safetensors file ({e})") from None
    if 8 + length + end != size:
        raise CheckpointError(
            f"cannot read weights {path}: truncated or padded ({size} bytes, "
            f"{8 + length + end} expected)"
        )


def _card_line(folder: Path) -> str:
    """The first line of MODEL.md that is not a heading: the model's one-line description."""
    try:
        lines = (folder / CARD).read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    return next((ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")), "")
