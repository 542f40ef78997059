"""`mgen export`: a run's files in a folder of their own, with --hub ready for the Hugging Face
Hub (`huggingface-cli upload OWNER/NAME DIR`; then `mgen sample --run hf:OWNER/NAME`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def export(
    run: Annotated[
        str,
        typer.Argument(
            help="Run directory, a shipped model's name (`mgen models`) or hf:OWNER/NAME.",
            show_default=False,
        ),
    ],
    folder: Annotated[
        Path, typer.Argument(help="Folder to write (new or empty).", show_default=False)
    ],
    hub: Annotated[
        bool,
        typer.Option(
            "--hub",
            help="Write README.md too: a model card whose metadata the Hugging Face Hub reads "
            "(library, tokenizer, model, data, licence, validation loss).",
        ),
    ] = False,
    repo: Annotated[
        str | None,
        typer.Option(
            help="The Hub repository (OWNER/NAME) it will be uploaded to, named in the card.",
            show_default=False,
        ),
    ] = None,
    license_id: Annotated[
        str | None,
        typer.Option(
            "--license",
            help="The card's licence, a Hub licence id (mit, cc-by-4.0, ...). Default: other "
            "(the data's licences are quoted in the card).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Write into a folder that already holds files.")
    ] = False,
) -> None:
    """Copy a run's files (not its checkpoint nor samples) into FOLDER; it loads as a run
    directory. With --hub, ready to upload: `huggingface-cli upload OWNER/NAME FOLDER`."""
    from mgen import api

    done = api.export(run, folder, hub=hub, repo=repo, license_id=license_id, force=force)
    for path in done.files:
        typer.echo(str(path))
    if done.card is not None:
        where = repo or "OWNER/NAME"
        typer.echo(f"upload: huggingface-cli upload {where} {folder}")
        typer.echo(f"then:   mgen sample --run hf:{where}")
