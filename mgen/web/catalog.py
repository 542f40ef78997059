"""The models a client may choose: run directories under the --runs folders, the models mgen
ships, and runs named one by one (`mgen serve --run NAME`: a directory, a shipped model, or
hf:owner/name from the Hugging Face Hub, resolved once at start). A client names one; the name is only ever a key of this catalog, so no path it
sends reaches the file system. Nothing here imports torch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mgen.core.runs.artifact import RunDir
from mgen.core.runs.hub import is_hub_name
from mgen.core.runs.shipped import shipped_name as shipped

MAX_DEPTH = 3  # runs/<group>/<run>/ and no deeper


@dataclass(frozen=True)
class ModelEntry:
    """One choosable model. `path` stays on the server; the client sees `public()`."""

    name: str
    source: str  # "run", "pretrained" or "hub"
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


def run_entry(name: str, path: Path) -> ModelEntry | None:
    """A run directory as an entry (its facts: `RunDir.facts`, the attribute controls it
    knows: {name: values}, and whether it infills: "bars", "beats" or None); None when they
    cannot be read."""
    from mgen.core.runs.decoding import chosen

    try:
        facts = RunDir(path).facts()
        controls = RunDir(path).controls()
        decoding = chosen(RunDir(path).read_config()).describe()
        unit = RunDir(path).infills()
    except Exception:  # noqa: BLE001 - a broken run is just not listed
        return None
    extra = {"controls": controls, "decoding": decoding, "infills": unit is not None,
             "infill_unit": unit}  # fmt: skip
    return ModelEntry(name, "run", path, facts.tokenizer, facts.model, facts.parameters,
                      facts.val_loss, extra)  # fmt: skip


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
            extra = {**entry.extra, "description": info.description}
            out.append(replace(entry, source="pretrained", extra=extra))
    return out


def named_runs(names: Sequence[str]) -> dict[str, Path]:
    """Each name (a run directory, a shipped model's name, hf:owner/name) -> its run folder,
    resolved now: a Hub run is fetched (or found in the cache) once, not at every rescan."""
    return {name: RunDir.resolve(name).path for name in names}


class Catalog:
    """The listed models, rescanned at most every `ttl` seconds (new runs appear by themselves);
    `named`: runs listed under the names given (`named_runs`), before all others."""

    def __init__(self, roots: Sequence[Path], ttl: float = 5.0, pretrained: bool = True,
                 named: Mapping[str, Path] | None = None):  # fmt: skip
        self.roots = [Path(r).resolve() for r in roots]
        self.ttl = ttl
        self.pretrained = pretrained
        self.named = dict(named or {})
        self._entries: dict[str, ModelEntry] = {}
        self._scanned = -math.inf

    def entries(self) -> dict[str, ModelEntry]:
        if time.monotonic() - self._scanned > self.ttl:
            self._entries = self.scan()
            self._scanned = time.monotonic()
        return self._entries

    def scan(self) -> dict[str, ModelEntry]:
        found = self._named()
        if self.pretrained:
            found.update((e.name, e) for e in pretrained_models() if e.name not in found)
        for i, root in enumerate(self.roots):
            if not root.is_dir():
                continue
            for run in RunDir.find(root, MAX_DEPTH):
                path = run.path
                name = path.relative_to(root).as_posix() if path != root else root.name
                if name in found:
                    name = f"{i + 1}:{name}"
                entry = run_entry(name, path.resolve())
                if entry is not None:
                    found[name] = entry
        return found

    def _named(self) -> dict[str, ModelEntry]:
        found = {}
        for name, path in self.named.items():
            entry = run_entry(name, path)
            if entry is not None:
                kind = "hub" if is_hub_name(name) else "pretrained" if shipped(path) else "run"
                found[name] = replace(entry, source=kind)
        return found

    def get(self, name: str) -> ModelEntry | None:
        """The entry named exactly `name`, or None: the only way from a name to a path."""
        return self.entries().get(name) if isinstance(name, str) else None
