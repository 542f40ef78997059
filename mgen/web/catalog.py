"""The models a client may choose: run directories under the --runs folders, and the models
mgen ships. A client names one; the name is only ever a key of this catalog, so no path it
sends reaches the file system. Nothing here imports torch.
"""

from __future__ import annotations

import json
import math
import os
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mgen.core.runs.rundir import CONFIG, TOKENIZER, WEIGHTS
from mgen.core.training.history import best_val_loss

MAX_DEPTH = 3  # runs/<group>/<run>/ and no deeper
MAX_HEADER = 16 << 20  # a safetensors header larger than this is not read


@dataclass(frozen=True)
class ModelEntry:
    """One choosable model. `path` stays on the server; the client sees `public()`."""

    name: str
    source: str  # "run" or "pretrained"
    path: Path
    tokenizer: str
    model: str
    parameters: int | None
    val_loss: float | None
    extra: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "tokenizer": self.tokenizer,
            "model": self.model,
            "parameters": self.parameters,
            "val_loss": self.val_loss,
            **self.extra,
        }


def _inside(path: Path, root: Path) -> bool:
    """Whether `path`, every link followed, lies under `root` (already resolved)."""
    try:
        return path.resolve(strict=True).is_relative_to(root)
    except (OSError, RuntimeError):  # a broken or looping link
        return False


def _run_dirs(root: Path) -> list[Path]:
    """Folders under `root` holding a run's files, none of them reached through a link that
    leads out of `root`; each real folder once (`latest` and its target are one run)."""
    found: dict[Path, Path] = {}
    for here, dirs, _files in os.walk(root, followlinks=False):
        folder = Path(here)
        depth = len(folder.relative_to(root).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if depth < MAX_DEPTH else []
        candidates = [folder] + [folder / d for d in dirs if (folder / d).is_symlink()]
        for cand in candidates:
            files = [cand / CONFIG, cand / TOKENIZER, cand / WEIGHTS]
            if all(_inside(f, root) and f.is_file() for f in files) and _inside(cand, root):
                real = cand.resolve()
                if real not in found or found[real].is_symlink():
                    found[real] = cand
    return sorted(found.values())


def parameter_count(weights: Path) -> int | None:
    """Numbers in a .safetensors file, read from its header (no tensor is loaded)."""
    try:
        with open(weights, "rb") as f:
            (size,) = struct.unpack("<Q", f.read(8))
            if size > MAX_HEADER:
                return None
            header = json.loads(f.read(size))
        shapes = [v["shape"] for k, v in header.items() if k != "__metadata__"]
        return int(sum(math.prod(s) for s in shapes))
    except (OSError, ValueError, KeyError, TypeError, struct.error):
        return None


def run_entry(name: str, path: Path) -> ModelEntry | None:
    """A run directory as an entry; None when its config cannot be read."""
    try:
        config = json.loads((path / CONFIG).read_text(encoding="utf-8"))
        loss = best_val_loss(path)
    except Exception:  # noqa: BLE001 - a broken run is just not listed
        return None
    if not isinstance(config, dict):
        return None
    tokenizer, model = str(config.get("tokenizer", "?")), str(config.get("model", "?"))
    params = parameter_count(path / WEIGHTS)
    return ModelEntry(name, "run", path, tokenizer, model, params, loss)


def pretrained_models() -> list[ModelEntry]:
    """The shipped models (`mgen models`), each named `pretrained:<name>`; a damaged one is
    left out (`mgen models` says why)."""
    from mgen.core.runs.pretrained import list_pretrained

    out = []
    for info in list_pretrained():
        if info.error or info.path is None:
            continue
        entry = run_entry(f"pretrained:{info.name}", Path(info.path).resolve())
        if entry is not None:
            extra = {"description": info.description}
            out.append(replace(entry, source="pretrained", extra=extra))
    return out


class Catalog:
    """The listed models, rescanned at most every `ttl` seconds (new runs appear by themselves)."""

    def __init__(self, roots: Sequence[Path], ttl: float = 5.0, pretrained: bool = True):
        self.roots = [Path(r).resolve() for r in roots]
        self.ttl = ttl
        self.pretrained = pretrained
        self._entries: dict[str, ModelEntry] = {}
        self._scanned = -math.inf

    def entries(self) -> dict[str, ModelEntry]:
        if time.monotonic() - self._scanned > self.ttl:
            self._entries = self.scan()
            self._scanned = time.monotonic()
        return self._entries

    def scan(self) -> dict[str, ModelEntry]:
        found: dict[str, ModelEntry] = {}
        if self.pretrained:
            found.update((e.name, e) for e in pretrained_models())
        for i, root in enumerate(self.roots):
            if not root.is_dir():
                continue
            for path in _run_dirs(root):
                name = path.relative_to(root).as_posix() if path != root else root.name
                if name in found:
                    name = f"{i + 1}:{name}"
                entry = run_entry(name, path.resolve())
                if entry is not None:
                    found[name] = entry
        return found

    def get(self, name: str) -> ModelEntry | None:
        """The entry named exactly `name`, or None: the only way from a name to a path."""
        return self.entries().get(name) if isinstance(name, str) else None
