"""`mgen data list` and `mgen data prepare NAME`: the datasets (plugins in `mgen.datasets`)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from mgen.cli.common import APP_SETTINGS

app = typer.Typer(
    name="data",
    help="The installed datasets: list them, or prepare one ahead of training.",
    **APP_SETTINGS,
)


@app.command("list")
def list_datasets() -> None:
    """Show each dataset: tokenizer, format, files, whether prepared, source, licence."""
    from mgen import api

    rows = [("NAME", "TOKENIZER", "FORMAT", "FILES", "PREPARED", "SOURCE", "LICENCE")]
    for d in api.datasets():
        if d.error is not None:  # a broken third-party dataset, or its tokenizer is missing
            rows.append((d.name, "?", "?", "?", f"unavailable ({d.error})", "", ""))
        else:
            rows.append((d.name, d.tokenizer, d.format, str(d.files), d.prepared, d.source,
                         d.licence))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)]
        typer.echo("  ".join([*cells, row[-1]]).rstrip())


@app.command("prepare")
def prepare(
    name: Annotated[str, typer.Argument(help="Dataset name (see `mgen data list`).")],
    workers: Annotated[int, typer.Option(help="Processes (0: every core).")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Write a dataset's files if it must be (bach-midi) and cache its tokens."""
    import os

    from mgen import api

    log = lambda msg: typer.echo(msg, err=True)  # noqa: E731 - a one-line sink
    progress = not quiet and sys.stderr.isatty()
    done = api.prepare_dataset(name, workers=workers, progress=progress, log=log)
    files, cached = done.files, done.cache
    log(
        f"{name}: {done.pieces} pieces from {done.used_files} of {len(files)} files, "
        f"{done.tokens:,} tokens" + (" [already cached]" if done.from_cache else "")
    )
    typer.echo(f"files:  {os.path.commonpath([str(f) for f in files]) if files else '-'}")
    typer.echo(
        f"tokens: {cached}" if cached.exists() else "tokens: not cached (cache not writable)"
    )
