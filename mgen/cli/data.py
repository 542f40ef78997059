"""`mgen data list` and `mgen data prepare NAME`: the datasets (plugins in `mgen.datasets`)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from mgen.core.contracts.errors import MgenError

app = typer.Typer(
    name="data",
    help="The installed datasets: list them, or prepare one ahead of training.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.command("list")
def list_datasets() -> None:
    """Show each dataset: tokenizer, format, files, whether prepared, source, licence."""
    from mgen.core.contracts import registry

    rows = [("NAME", "TOKENIZER", "FORMAT", "FILES", "PREPARED", "SOURCE", "LICENCE")]
    for name in registry.names("dataset"):
        try:
            d = registry.load("dataset", name)()
            count, prepared = str(d.count()), _prepared_word(d)
            rows.append((name, d.tokenizer, d.format, count, prepared, d.source, d.licence))
        except MgenError as e:  # a broken third-party dataset, or its tokenizer is missing
            rows.append((name, "?", "?", "?", f"unavailable ({e})", "", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)]
        typer.echo("  ".join([*cells, row[-1]]).rstrip())


def _prepared_word(d) -> str:
    """yes: files there and their tokens cached (default settings); files only; no."""
    if not d.ready():
        return "no"
    from mgen.core.data.corpus import corpus_cache_path
    from mgen.core.data.prepare import build_tokenizer

    cached = corpus_cache_path(build_tokenizer(d.tokenizer, {}), d.files(progress=False))
    return "yes" if cached.exists() else "files only"


@app.command("prepare")
def prepare(
    name: Annotated[str, typer.Argument(help="Dataset name (see `mgen data list`).")],
    workers: Annotated[int, typer.Option(help="Processes (0: every core).")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Write a dataset's files if it must be (bach-midi) and cache its tokens."""
    import os

    from mgen.core.data.prepare import prepare_dataset

    log = lambda msg: typer.echo(msg, err=True)  # noqa: E731 - a one-line sink
    progress = not quiet and sys.stderr.isatty()
    files, corpus, cached = prepare_dataset(name, workers=workers, progress=progress, log=log)
    log(
        f"{name}: {len(corpus)} pieces from {len(corpus.files)} of {len(files)} files, "
        f"{int(corpus.offsets[-1]):,} tokens" + (" [already cached]" if corpus.from_cache else "")
    )
    typer.echo(f"files:  {os.path.commonpath([str(f) for f in files]) if files else '-'}")
    typer.echo(
        f"tokens: {cached}" if cached.exists() else "tokens: not cached (cache not writable)"
    )
