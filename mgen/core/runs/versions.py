"""The versions a run directory records, so a result can be traced to its software."""

from __future__ import annotations

import platform
from importlib import metadata

PACKAGES = ("mgen", "torch", "numpy", "music21", "pretty_midi", "miditoolkit")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "?"
    return out
