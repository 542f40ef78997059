"""`mgen models`: the trained models installed packages ship, one line each."""

from __future__ import annotations

import typer


def models() -> None:
    """List shipped (pretrained) models: sample one with `mgen sample --run NAME`, fine-tune it
    with `mgen train --init NAME --data FILES`."""
    from mgen import api

    found = api.models()
    if not found.models:
        typer.echo(f"no shipped models installed (entry-point group {found.group})")
    for info in found.models:
        source = f"[{info.distribution} {info.version}]"
        if info.error:
            typer.echo(f"  {info.name:<18} BROKEN {source}: {info.error}")
        else:
            kind = f"{info.tokenizer}/{info.model}"
            typer.echo(f"  {info.name:<18} {kind:<16} {info.description} {source}")
