"""`mgen plugins`: every installed tokenizer, model and decoder."""

from __future__ import annotations

import typer

from mgen.core import registry


def plugins() -> None:
    """List installed tokenizers, models and decoders with their providing package."""
    for kind in registry.GROUPS:
        typer.echo(f"{kind}s ({registry.GROUPS[kind]}):")
        for info in registry.describe(kind):
            source = f"[{info.distribution} {info.version}]"
            if info.error:
                typer.echo(f"  {info.name:<14} BROKEN {source}: {info.error}")
            else:
                typer.echo(f"  {info.name:<14} {info.description} {source}")
