"""Which format a file is in, by its name (below mgen.evaluate, above mgen.formats): the interchange formats mgen reads itself (MIDI,
MusicXML), then the `format` of every installed tokenizer plugin (found lazily through the
registry, so a third-party format is judged and rendered with no change to mgen)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mgen.formats.base import Format
from mgen.formats.midi.format import MIDI
from mgen.formats.musicxml import MUSICXML

#: The formats mgen reads itself, before any plugin's.
BUILTIN = (MIDI, MUSICXML)


@dataclass(frozen=True)
class Known:
    """A format under the name `mgen eval` reports it by: a built-in format's own name, or
    the name of the tokenizer plugin whose format it is (`tokenizer`, its class)."""

    name: str
    format: Format
    tokenizer: Any = None


def reads_notes(fmt: Format) -> bool:
    """Whether the format reads notes itself (else mgen converts it to MIDI first)."""
    return getattr(fmt, "reads_notes", type(fmt).read_notes is not Format.read_notes)


def _plugins() -> list[tuple[str, Any]]:
    """(name, class) of the installed tokenizer plugins; broken ones are left out."""
    from mgen.core.contracts import registry

    return list(_plugin_classes(tuple(registry.names("tokenizer"))))


@functools.cache
def _plugin_classes(names: tuple[str, ...]) -> tuple[tuple[str, Any], ...]:
    from mgen.core.contracts import registry
    from mgen.core.contracts.errors import PluginError

    found = []
    for name in names:
        try:
            found.append((name, registry.load("tokenizer", name)))
        except PluginError:
            continue  # the plugins listing says why; other formats still work
    return tuple(found)


def known() -> list[Known]:
    """Every format a file may be in, in the order they are tried: built-ins, then each
    plugin's (those that read notes themselves first when two claim one pattern)."""
    out = [Known(fmt.name, fmt) for fmt in BUILTIN]
    plugins = [(name, cls, getattr(cls, "format", None)) for name, cls in _plugins()]
    plugins.sort(key=lambda p: (not isinstance(p[2], Format) or not reads_notes(p[2]), p[0]))
    for name, cls, fmt in plugins:
        if isinstance(fmt, Format) and fmt.patterns and all(fmt is not k.format for k in out):
            out.append(Known(name, fmt, cls))
    return out


def find(path: Path) -> Known | None:
    """The format of `path` by its name, or None when no format takes it."""
    return next((k for k in known() if k.format.matches(Path(path))), None)


def format_of(path: Path) -> Format | None:
    """The Format of `path`, or None."""
    found = find(path)
    return found.format if found is not None else None


def patterns() -> list[str]:
    """Glob patterns of every file some format takes (for searching folders)."""
    return list(dict.fromkeys(p for k in known() for p in k.format.patterns))
