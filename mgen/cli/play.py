"""`mgen play`: call and response on a MIDI port. A phrase played on a keyboard or sent by a
DAW is answered by a MIDI model, at the tempo it was played (the `live` extra: mido and
python-rtmidi)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def play(
    run: Annotated[
        Path,
        typer.Option(
            help="A MIDI model: a run directory or a shipped model (bach-midi, bach-satb)."
        ),
    ] = Path("runs/latest"),
    port: Annotated[
        str,
        typer.Option(
            help="The MIDI port to listen to and answer on, by name (a keyboard's, a DAW's)."
        ),
    ] = "mgen",
    virtual: Annotated[
        bool,
        typer.Option(
            "--virtual",
            help="Open a new virtual port named --port for a DAW to connect to (ALSA on "
            "Linux, CoreMIDI on macOS) instead of an existing one.",
        ),
    ] = False,
    n: Annotated[int, typer.Option("-n", "--length", help="Tokens of each answer at most.")] = 200,
    decoder: Annotated[
        str | None,
        typer.Option(
            help="Decoder plugin (default: the run's chosen decoding, else temperature).",
            show_default=False,
        ),
    ] = None,
    temperature: Annotated[float | None, typer.Option(help="Softmax temperature.")] = None,
    top_k: Annotated[int | None, typer.Option(help="Keep the K most likely tokens.")] = None,
    top_p: Annotated[float | None, typer.Option(help="Nucleus probability mass.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the first answer (then +1 each).")] = 0,
    pause: Annotated[float, typer.Option(help="Seconds of silence that end a phrase.")] = 1.0,
    answers: Annotated[
        int, typer.Option(help="Phrases to answer, then stop (0: until Ctrl-C).")
    ] = 0,
) -> None:
    """Answer each phrase played on a MIDI port with a MIDI model's continuation, in time."""
    from mgen.api.play import play_along
    from mgen.core.contracts.errors import ConfigError

    if not 0.05 <= pause <= 30:
        raise ConfigError(f"--pause must be from 0.05 to 30 seconds, got {pause}")
    if answers < 0:
        raise ConfigError("--answers must be >= 0")
    log = lambda msg: typer.echo(msg, err=True)  # noqa: E731 - a one-line sink
    play_along(run, port, n, decoder, seed=seed, pause=pause, answers=answers, virtual=virtual,
               log=log, temperature=temperature, top_k=top_k, top_p=top_p)  # fmt: skip
