"""`mgen bench`: training, sampling and preprocessing speed against this machine's limits."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mgen.core.contracts.errors import ConfigError


def bench(
    quick: Annotated[
        bool, typer.Option("--quick", help="Tiny sizes: check every section runs (seconds).")
    ] = False,
    section: Annotated[
        list[str] | None,
        typer.Option(
            "--section",
            "-s",
            help="Only this section (repeatable): machine, peak, preprocess, train, sample, latency, memory, threads; quality (not run by default: ~40 minutes of training); scale (not run by default: 20,000 synthetic MIDI files, full MIDI checks).",
        ),
    ] = None,
    repeats: Annotated[int, typer.Option(help="Timed repeats behind each median.")] = 5,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps.")] = "auto",
    shared_data: Annotated[
        Path, typer.Option(help="Folder of extra datasets to time preprocessing on, if present.")
    ] = Path("../shared/data"),
    parse_files: Annotated[
        int, typer.Option(help="Most files per dataset parsed for the first-run figure.")
    ] = 400,
    compare_steps: Annotated[
        int, typer.Option(help="lstm2 steps of the plain-fp32 vs fastest loss comparison.")
    ] = 150,
    quality_budget: Annotated[
        float,
        typer.Option(
            help="CPU seconds of training per run in the quality section (all threads: about "
            "half that on the clock with 2 cores)."
        ),
    ] = 360.0,
    keep: Annotated[
        Path | None, typer.Option(help="Keep the quality section's runs and samples here.")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the rows as JSON here.")
    ] = None,
) -> None:
    """Measure mgen on this machine and print one table (Markdown) of the figures."""
    from mgen.bench import SECTIONS, Bench, BenchConfig, table
    from mgen.bench.common import DEFAULT_SECTIONS
    from mgen.core.contracts.io import write_json

    chosen = tuple(section or DEFAULT_SECTIONS)
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        raise ConfigError(
            f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}"
        )
    cfg = BenchConfig.from_dict({
        "quick": quick, "repeats": repeats, "device": device, "shared_data": str(shared_data),
        "parse_files": parse_files, "compare_steps": compare_steps,
        "quality_budget": quality_budget, "keep": str(keep or ""),
    })  # fmt: skip
    log = lambda msg: typer.echo(msg, err=True)  # noqa: E731 - a one-line sink
    rows = Bench(cfg, log=log).run(chosen)
    typer.echo(table(rows))
    if json_out is not None:
        write_json(json_out, [r.__dict__ for r in rows])
