"""`mgen render`: hear (WAV), see (piano-roll PNG) or engrave (MusicXML) a piece of music."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def render(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Music files: MIDI, MusicXML or any format of an installed tokenizer plugin "
            "(.abc, .krn, ...).",
            show_default=False,
        ),
    ],
    wav: Annotated[
        bool, typer.Option("--wav", help="Audio through FluidSynth and a General MIDI soundfont.")
    ] = False,
    png: Annotated[bool, typer.Option("--png", help="A piano roll (pitch against beats).")] = False,
    musicxml: Annotated[
        bool, typer.Option("--musicxml", help="MusicXML for MuseScore or any notation editor.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the outputs (default: beside each file). Inputs that would share "
            "an output name get their suffix or folder name added (x-abc.png, a-x.png)."
        ),
    ] = None,
    soundfont: Annotated[
        Path | None,
        typer.Option(
            help="A .sf2 soundfont for --wav (default: $MGEN_SOUNDFONT or the system's GM soundfont)."
        ),
    ] = None,
) -> None:
    """Render music files as audio, a piano-roll picture and/or MusicXML; prints each path."""
    from mgen import api

    written = api.render(files, wav=wav, png=png, musicxml=musicxml, out=out, soundfont=soundfont)
    for path in written:
        typer.echo(str(path))
