"""Small parsers and printers shared by commands."""

from __future__ import annotations

import json
import re
from typing import Any

from mgen.core.contracts.errors import ConfigError

#: How every typer app of mgen's behaves: help for a bare command, no shell-completion
#: commands, our own one-line errors, and plain help (typer's rich help shows a `<bool>` value
#: for flags, as if they took one).
APP_SETTINGS: dict[str, Any] = {
    "no_args_is_help": True,
    "add_completion": False,
    "pretty_exceptions_enable": False,
    "rich_markup_mode": None,
}

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(h|m|s)?", re.IGNORECASE)
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, None: 1.0}


def parse_duration(text: str) -> float:
    """'90', '90s', '10m', '1h30m' -> seconds."""
    text = text.strip()
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2).lower() if m.group(2) else None]
        pos = m.end()
    if pos != len(text) or not text or total <= 0:
        raise ConfigError(f"cannot read duration {text!r}; use e.g. 90s, 10m or 1h30m")
    return total


def parse_options(pairs: list[str] | None, flag: str) -> dict:
    """['min_count=50', 'piano_only=true'] -> {'min_count': 50, 'piano_only': True}."""
    out = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{flag} takes KEY=VALUE, got {pair!r}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw  # plain strings need no quotes
        out[key.strip().replace("-", "_")] = value
    return out


def listed(info: Any, width: int, text: str) -> str:
    """One installed thing (a plugin, a shipped model) as a line: its name, `text`, and the
    package it comes from; a broken one with why."""
    source = f"[{info.distribution} {info.version}]"
    if info.error:
        return f"  {info.name:<{width}} BROKEN {source}: {info.error}"
    return f"  {info.name:<{width}} {text} {source}"
