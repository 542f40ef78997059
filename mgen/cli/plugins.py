"""`mgen plugins`: every installed tokenizer, model, decoder and dataset."""

from __future__ import annotations

from typing import Annotated

import typer

from mgen import api
from mgen.cli.common import listed


def plugins(
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Import every plugin, mgen's own too, to verify it loads (slower: loads torch).",
        ),
    ] = False,
) -> None:
    """List installed plugins with their package; broken ones show why, duplicates warn."""
    for found in api.plugins(check):
        typer.echo(f"{found.kind}s ({found.group}):")
        for info in found.plugins:
            typer.echo(listed(info, 16, info.description))
        for message in found.warnings:
            typer.echo(f"warning: {message}", err=True)
