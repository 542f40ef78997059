"""`mgen data list` and `mgen data prepare NAME`: the embedded datasets."""

from __future__ import annotations

from typing import Annotated

import typer

from mgen.core.data import load_corpus
from mgen.core.errors import MgenError

app = typer.Typer(
    name="data",
    help="The embedded datasets: list them, or prepare one ahead of training.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command("list")
def list_datasets() -> None:
    """Show each embedded dataset: tokenizer, format, files, whether prepared, source, licence."""
    from mgen.plugins.datasets import CATALOG

    rows = [("NAME", "TOKENIZER", "FORMAT", "FILES", "PREPARED", "SOURCE", "LICENCE")]
    for d in CATALOG.values():
        try:
            count, prepared = str(d.count()), _prepared_word(d)
        except MgenError as e:  # e.g. its tokenizer plugin is not installed
            count, prepared = "?", f"unavailable ({e})"
        rows.append((d.name, d.tokenizer, d.format, count, prepared, d.source, d.licence))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)]
        typer.echo("  ".join([*cells, row[-1]]))


def _prepared_word(d) -> str:
    if d.prepared():
        return "yes"
    return "files only" if d.generated and d.materialized() else "no"


@app.command("prepare")
def prepare(
    name: Annotated[str, typer.Argument(help="Dataset name (see `mgen data list`).")],
    workers: Annotated[int, typer.Option(help="Processes (0: every core).")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Materialize a dataset (bach-midi: write its MIDI files) and cache its tokens."""
    import sys

    from mgen.plugins.datasets import corpus_cache_file, get

    dataset = get(name)
    tok = dataset.make_tokenizer()
    files = tok.default_files()
    log = lambda msg: typer.echo(msg, err=True)  # noqa: E731 - a one-line sink
    corpus = load_corpus(
        tok, files, workers=workers or None, progress=not quiet and sys.stderr.isatty(), warn=log
    )
    tokens = int(corpus.offsets[-1])
    log(
        f"{name}: {len(corpus)} pieces from {len(corpus.files)} of {len(files)} files, "
        f"{tokens:,} tokens" + (" [already cached]" if corpus.from_cache else "")
    )
    typer.echo(f"files:  {_common_parent(files)}")
    cached = corpus_cache_file(tok, files)
    typer.echo(
        f"tokens: {cached}" if cached.exists() else "tokens: not cached (cache not writable)"
    )


def _common_parent(files) -> str:
    import os

    return os.path.commonpath([str(f) for f in files]) if files else "-"
