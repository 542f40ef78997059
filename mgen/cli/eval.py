"""`mgen eval`: how good is the music? Figures on generated files, or a run's held-out loss."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mgen.core.contracts.errors import ConfigError


def eval_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Generated files or folders: MIDI, MusicXML or any format of an installed "
            "tokenizer plugin (.abc, .krn, ...).",
            show_default=False,
        ),
    ] = None,
    reference: Annotated[
        list[str] | None,
        typer.Option(
            "--reference",
            "-r",
            help="Corpus to compare with: a dataset name (`mgen data list`) or files/folders (repeatable).",
        ),
    ] = None,
    reference_limit: Annotated[
        int,
        typer.Option(
            help="Read at most this many reference pieces for the statistics, spread evenly "
            "over all its pieces (a run's: its validation split); copies are sought in every "
            "piece whatever this is (0: read all)."
        ),
    ] = 200,
    run: Annotated[
        Path | None,
        typer.Option(
            help="A trained run (a directory, a shipped model's name or hf:OWNER/NAME). With files: judge "
            "them against everything it trained on "
            "(copies against its whole training split; statistics against --reference, default "
            "pieces of its validation split). With --data instead: its loss on files it never saw."
        ),
    ] = None,
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            "-d",
            help="With --run: files, folders or dataset names to measure the loss on (repeatable).",
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="With --run: windows per batch.")] = 64,
    device: Annotated[str, typer.Option(help="With --run: auto, cpu, cuda or mps.")] = "auto",
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write every figure to this JSON file.")
    ] = None,
    html_out: Annotated[
        Path | None,
        typer.Option(
            "--html",
            help="Also write one self-contained page: the table, histograms of samples vs "
            "corpus, piano rolls of the first 8 samples.",
        ),
    ] = None,
) -> None:
    """Judge generated music (validity, form, statistics, repetition, copies, a classifier,
    each beside the same figure of real pieces), or with --run/--data a trained model's loss
    on held-out files."""
    from mgen import api

    log = lambda msg: typer.echo(msg, err=True)  # noqa: E731 - a one-line sink
    if run is not None and data:
        if paths:
            raise ConfigError("give either files to judge or --data to measure the loss on")
        if html_out is not None:
            raise ConfigError("--html goes with files to judge, not with --data")
        result = api.score(run, data or [], device, batch_size, log=log)
    else:
        if not paths:
            raise ConfigError(
                "nothing to evaluate: give generated files or folders, or --run with --data"
            )
        if data:
            raise ConfigError("--data goes with --run; compare files with --reference")
        result = api.judge(paths, reference, reference_limit, run=run, log=log)
    typer.echo(result.text())
    if json_out is not None:
        result.write_json(json_out)
        log(f"wrote {json_out}")
    if html_out is not None:
        log(f"wrote {result.write_html(html_out)}")
