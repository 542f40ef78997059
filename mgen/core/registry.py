"""Plugin discovery over `importlib.metadata` entry points.

Metadata is read lazily and only the plugin asked for is imported. A plugin whose import fails
is reported as broken with its reason and never breaks listing or other plugins.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from mgen.core.errors import PluginError

GROUPS = {"tokenizer": "mgen.tokenizers", "model": "mgen.models", "decoder": "mgen.decoders"}


@dataclass(frozen=True)
class PluginInfo:
    kind: str
    name: str
    distribution: str
    version: str
    description: str
    error: str | None = None  # set when the plugin is broken


@functools.cache
def _entry_points(group: str) -> dict[str, EntryPoint]:
    eps: dict[str, EntryPoint] = {}
    for ep in entry_points(group=group):
        eps.setdefault(ep.name, ep)  # first on sys.path wins, like import
    return eps


def refresh() -> None:
    """Forget discovered entry points and imported plugins (after installing a package)."""
    _entry_points.cache_clear()
    load.cache_clear()


def names(kind: str) -> list[str]:
    return sorted(_entry_points(GROUPS[kind]))


@functools.cache
def load(kind: str, name: str) -> Any:
    """Import and return the plugin class registered as `name`; unknown names list the choices."""
    eps = _entry_points(GROUPS[kind])
    if name not in eps:
        available = ", ".join(names(kind)) or "(none installed)"
        raise PluginError(f"unknown {kind} {name!r}; available: {available}")
    try:
        obj = eps[name].load()
    except Exception as e:  # a third-party plugin may fail in any way while importing
        raise PluginError(f"{kind} {name!r} is broken: {type(e).__name__}: {e}") from None
    obj.plugin_name = name
    return obj


def describe(kind: str) -> list[PluginInfo]:
    """Every plugin of one kind with its distribution and one-line description."""
    infos = []
    for name in names(kind):
        ep = _entry_points(GROUPS[kind])[name]
        dist = ep.dist.name if ep.dist else "?"
        version = ep.dist.version if ep.dist else "?"
        try:
            cls = load(kind, name)
            doc = getattr(cls, "description", "") or (cls.__doc__ or "").strip()
            infos.append(PluginInfo(kind, name, dist, version, doc.splitlines()[0] if doc else ""))
        except PluginError as e:
            infos.append(PluginInfo(kind, name, dist, version, "", error=str(e)))
    return infos


def plugin_version(kind: str, name: str) -> str:
    ep = _entry_points(GROUPS[kind]).get(name)
    return ep.dist.version if ep is not None and ep.dist else "?"


def plugin_distribution(kind: str, name: str) -> str:
    ep = _entry_points(GROUPS[kind]).get(name)
    return ep.dist.name if ep is not None and ep.dist else "?"
