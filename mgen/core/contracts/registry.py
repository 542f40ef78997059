"""Plugin discovery over `importlib.metadata` entry points.

Metadata is read lazily and only the plugin asked for is imported. A plugin whose import fails
is reported as broken with its reason and never breaks listing or other plugins. Two packages
registering one name: the first on sys.path wins (as with imports) and a warning names both.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import warnings
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from mgen.core.contracts.errors import PluginError

GROUPS = {
    "tokenizer": "mgen.tokenizers",
    "model": "mgen.models",
    "decoder": "mgen.decoders",
    "dataset": "mgen.datasets",
}
BUILTIN = "mgen"  # the distribution of the built-in plugins


class DuplicatePluginWarning(UserWarning):
    """Two installed packages register the same plugin name."""


@dataclass(frozen=True)
class PluginInfo:
    kind: str
    name: str
    distribution: str
    version: str
    description: str
    error: str | None = None  # set when the plugin is broken


def _dist(ep: EntryPoint) -> tuple[str, str]:
    """(name, version) of the package that registers `ep`."""
    if not ep.dist:
        return ("?", "?")
    return _name_version(ep.dist)


# Each `.name` and `.version` parses the package's whole METADATA (mgen's holds its README):
# read once per installed package, not twice per plugin.
_NAME_VERSION: dict[str, tuple[str, str]] = {}


def _name_version(dist: Any) -> tuple[str, str]:
    key = str(getattr(dist, "_path", id(dist)))  # where it is installed
    if key not in _NAME_VERSION:
        meta = dist.metadata
        _NAME_VERSION[key] = (meta["Name"], meta["Version"])
    return _NAME_VERSION[key]


@functools.cache
def _discover(group: str) -> tuple[dict[str, EntryPoint], tuple[str, ...]]:
    """(name -> entry point, duplicate-name messages) of one group."""
    eps: dict[str, EntryPoint] = {}
    duplicates = []
    for ep in entry_points(group=group):
        first = eps.setdefault(ep.name, ep)
        if first is not ep and first.value != ep.value:
            duplicates.append(
                f"{group} {ep.name!r} is registered by {_dist(first)[0]} ({first.value}) and "
                f"{_dist(ep)[0]} ({ep.value}); using {_dist(first)[0]}'s"
            )
    return eps, tuple(duplicates)


def _entry_points(kind: str) -> dict[str, EntryPoint]:
    return _discover(GROUPS[kind])[0]


def duplicates(kind: str) -> list[str]:
    """One message per plugin name that two packages register."""
    return list(_discover(GROUPS[kind])[1])


def refresh() -> None:
    """Forget discovered entry points and imported plugins (after installing a package)."""
    _discover.cache_clear()
    load.cache_clear()
    _NAME_VERSION.clear()


def names(kind: str) -> list[str]:
    return sorted(_entry_points(kind))


@functools.cache
def load(kind: str, name: str) -> Any:
    """Import and return the plugin class registered as `name`; unknown names list the choices."""
    eps = _entry_points(kind)
    if name not in eps:
        available = ", ".join(names(kind)) or "(none installed)"
        raise PluginError(f"unknown {kind} {name!r}; available: {available}")
    for message in duplicates(kind):
        if f" {name!r} " in message:
            warnings.warn(message, DuplicatePluginWarning, stacklevel=2)
    try:
        return eps[name].load()
    except Exception as e:  # a third-party plugin may fail in any way while importing
        raise PluginError(f"{kind} {name!r} is broken: {type(e).__name__}: {e}") from None


def names_with(kind: str, method: str) -> list[str]:
    """The installed `kind` plugins whose class has the method `method` (an optional protocol:
    the tokenizers that choose their ensemble, accompany a track, read attributes); a plugin
    that does not load is left out."""
    found = []
    for name in names(kind):
        try:
            cls = load(kind, name)
        except PluginError:
            continue
        if callable(getattr(cls, method, None)):
            found.append(name)
    return found


def describe(kind: str, check: bool = False) -> list[PluginInfo]:
    """Every plugin of one kind with its distribution and one-line description.

    Third-party plugins are imported, so a broken one shows its reason. mgen's own are
    described from their source without importing them (no torch for a listing) unless
    `check` asks to import everything."""
    infos = []
    for name in names(kind):
        ep = _entry_points(kind)[name]
        dist, version = _dist(ep)
        try:
            if dist == BUILTIN and not check:
                doc = _static_description(ep)
            else:
                doc = _description(load(kind, name))
            infos.append(PluginInfo(kind, name, dist, version, doc))
        except PluginError as e:
            infos.append(PluginInfo(kind, name, dist, version, "", error=str(e)))
    return infos


def _description(cls: Any) -> str:
    doc = getattr(cls, "description", "") or (cls.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


@functools.cache
def _module_tree(path: str) -> ast.Module:
    """A source file's syntax tree, parsed once however many plugins it defines."""
    return ast.parse(Path(path).read_text(encoding="utf-8"))


def _static_description(ep: EntryPoint) -> str:
    """The class's `description` string or docstring, read from its source file."""
    module, _, attr = ep.value.partition(":")
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise PluginError(f"module {module} of plugin {ep.name!r} is not installed")
    for node in _module_tree(spec.origin).body:
        if isinstance(node, ast.ClassDef) and node.name == attr:
            for item in node.body:
                target = getattr(item, "targets", [None])[0]
                if getattr(target, "id", None) == "description":
                    value = ast.literal_eval(item.value)  # type: ignore[attr-defined]
                    return str(value).splitlines()[0]
            doc = ast.get_docstring(node) or ""
            return doc.splitlines()[0] if doc else ""
    raise PluginError(f"plugin {ep.name!r}: {module} defines no {attr}")


def plugin_version(kind: str, name: str) -> str:
    ep = _entry_points(kind).get(name)
    return _dist(ep)[1] if ep is not None else "?"


def plugin_distribution(kind: str, name: str) -> str:
    ep = _entry_points(kind).get(name)
    return _dist(ep)[0] if ep is not None else "?"
