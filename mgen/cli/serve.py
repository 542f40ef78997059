"""`mgen serve`: a web page (and JSON API) to generate, see and hear music from trained runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def serve(
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on. The default reaches only this machine; any other is "
            "announced with a warning (there is no login)."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    runs: Annotated[
        list[Path] | None,
        typer.Option(
            "--runs",
            help="Folder of run directories to offer (repeatable; default: runs/). Clients "
            "choose among them by name only.",
            show_default=False,
        ),
    ] = None,
    run: Annotated[
        list[str] | None,
        typer.Option(
            "--run",
            help="Also offer this run by its name (repeatable): a run directory, a shipped "
            "model's name or hf:OWNER/NAME (a run on the Hugging Face Hub, fetched at start).",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option(help="Generations at once; more requests wait in a queue.")
    ] = 1,
    queue: Annotated[
        int, typer.Option(help="Requests allowed to wait; beyond it the server answers 503.")
    ] = 64,
    root_path: Annotated[
        str, typer.Option(help="URL prefix when served under a reverse proxy's sub-path.")
    ] = "",
    time_limit: Annotated[
        float,
        typer.Option(
            help="Seconds one job (a batch, an upload, MusicXML, a judgement) may take; past it "
            "the job's process is stopped and the request answered 504."
        ),
    ] = 60.0,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            help="Also answer requests for this host name (repeatable), e.g. the name a "
            "reverse proxy passes on; others are refused (DNS rebinding). '*': any.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve a page to choose a model, generate, see the notation, hear it and download it."""
    from mgen.core.contracts.errors import ConfigError
    from mgen.web.limits import Limits
    from mgen.web.server import serve as run_server

    if workers < 1 or queue < 0:
        raise ConfigError("--workers must be >= 1 and --queue >= 0")
    if not 1 <= time_limit <= 3600:  # NaN fails this too
        raise ConfigError(f"--time-limit must be from 1 to 3600 seconds, got {time_limit}")
    limits = Limits(workers=workers, max_waiting=queue)
    run_server(host, port, runs or [Path("runs")], limits, typer.echo, root_path,
               allow_host or [], time_limit, run or [])  # fmt: skip
