"""`mgen sample --stream`: each note printed as soon as it is final, then the piece written as
`mgen sample` writes it. Ctrl-C stops the sampling at the next token and writes the piece so far
(a second Ctrl-C interrupts at once)."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mgen.core.contracts.errors import ConfigError

if TYPE_CHECKING:
    from mgen.api import Finished, Note
    from mgen.api.results import SampleResult


def note_line(note: Note) -> str:
    """One printed note: its start in seconds, its name, its length in beats, its track."""
    line = f"{note.start:9.3f}s  {note.name:<4} {note.duration:6.3g} beats"
    return f"{line}  {note.part}" if note.part else line


def stream_sample(
    run: Path | str,
    n: int,
    num_samples: int,
    decoder: str | None,
    *,
    out: Path | None = None,
    force: bool = False,
    device: str = "cpu",
    **kwargs: Any,
) -> SampleResult:
    """`api.sample`'s arguments: the notes printed as they come, the piece written."""
    from mgen import api

    if num_samples != 1:
        raise ConfigError("--stream samples one piece: leave out --num-samples")
    api.check_output(out, 1, force)
    loaded = api.load_run(run, device)
    events = api.stream(loaded, n, decoder, device=device, **kwargs)
    with _stop_on_interrupt(events.stop):
        finished = print_notes(events)
    if events.stopped:
        typer.echo(f"stopped after {finished.steps} tokens: the piece so far is written", err=True)
    return api.write(loaded, [finished.piece], out, force)


def print_notes(events: Iterator[Any]) -> Finished:
    """Print each Note of `events` as it comes (flushed); the stream's Finished."""
    from mgen import api

    for event in events:
        if isinstance(event, api.Note):
            sys.stdout.write(note_line(event) + "\n")
            sys.stdout.flush()
        elif isinstance(event, api.Finished):
            return event
    raise RuntimeError("the stream ended without its Finished event")


@contextlib.contextmanager
def _stop_on_interrupt(stop: Any) -> Iterator[None]:
    """The first Ctrl-C calls `stop` (the stream ends at its next token); the next one
    interrupts as usual."""

    def handler(signum: int, frame: Any) -> None:
        del signum, frame
        signal.signal(signal.SIGINT, previous)
        typer.echo("stopping (Ctrl-C again to interrupt)", err=True)
        stop()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
