"""`mgen models`: the trained models installed packages ship, one line each."""

from __future__ import annotations

import typer

from mgen.cli.common import listed


def models() -> None:
    """List shipped (pretrained) models: sample one with `mgen sample --run NAME`, fine-tune it
    with `mgen train --init NAME --data FILES`."""
    from mgen import api

    found = api.models()
    if not found.models:
        typer.echo(f"no shipped models installed (entry-point group {found.group})")
    for info in found.models:
        kind = f"{info.tokenizer}/{info.model}"
        typer.echo(listed(info, 18, f"{kind:<16} {info.description}"))
