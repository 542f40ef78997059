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
            help="Generated files or folders (.abc, .krn, .mid, .xml, .mxl).", show_default=False
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
        list[Path] | None,
        typer.Option(
            "--data", "-d", help="With --run: files or folders to measure the loss on (repeatable)."
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
        report, text = _heldout(run, data or [], batch_size, device, log)
    else:
        if not paths:
            raise ConfigError("nothing to evaluate: give generated files or folders, or --run")
        if data:
            raise ConfigError("--data goes with --run; compare files with --reference")
        from mgen.evaluate.report import evaluate_files, render_text

        report = evaluate_files(paths, reference, reference_limit, log)
        text = render_text(report)
    typer.echo(text)
    if json_out is not None:
        write_json(json_out, report)
        log(f"wrote {json_out}")


def _heldout(run: Path, data: list[Path], batch_size: int, device: str, log):
    from mgen.core.device import resolve_device
    from mgen.evaluate.heldout import heldout_loss, render_text

    report = heldout_loss(run, [str(d) for d in data], resolve_device(device), batch_size, log)
    return report, render_text(report)


def evaluate_samples(paths: list[Path], tok, config: dict) -> None:
    """`mgen sample --eval`: judge what was just written against the run's training data."""
    from mgen.evaluate.notes import file_format
    from mgen.evaluate.report import evaluate, load_reference, reference_files, render_text

    log = lambda msg: typer.echo(msg, err=True)  # noqa: E731 - a one-line sink
    data = config.get("train", {}).get("data") or []
    if data:
        files, source = reference_files(data), ", ".join(data)
    else:
        files = [f for f in tok.default_files() if file_format(f)]
        source = f"the {config.get('tokenizer')} default dataset"
    reference = load_reference(files, 200, source, log)
    typer.echo(render_text(evaluate(list(dict.fromkeys(paths)), reference, log)))
