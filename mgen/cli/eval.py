"""`mgen eval`: how good is the music? Figures on generated files, or a run's held-out loss."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mgen.core.errors import ConfigError
from mgen.core.io import write_json


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
            help="Read at most about this many reference pieces, spread evenly over the corpus (0: all)."
        ),
    ] = 200,
    run: Annotated[
        Path | None,
        typer.Option(help="Instead: measure this run's loss on --data it never saw."),
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
) -> None:
    """Judge generated music (validity, statistics against a reference corpus, repetition,
    novelty), or with --run/--data a trained model's loss on held-out files."""
    log = lambda msg: typer.echo(msg, err=True)  # noqa: E731 - a one-line sink
    if run is not None:
        if paths:
            raise ConfigError("give either files to judge or --run with --data, not both")
        from mgen.evaluate.heldout import heldout_loss, render_text

        report = heldout_loss(run, data or [], device, batch_size, log)
    else:
        if not paths:
            raise ConfigError("nothing to evaluate: give generated files or folders, or --run")
        if data:
            raise ConfigError("--data goes with --run; compare files with --reference")
        from mgen.evaluate.report import evaluate_files, render_text

        report = evaluate_files(paths, reference, reference_limit, log)
    typer.echo(render_text(report))
    if json_out is not None:
        write_json(json_out, report)
        log(f"wrote {json_out}")
