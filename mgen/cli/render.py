"""`mgen render`: hear (WAV), see (piano-roll PNG) or engrave (MusicXML) a piece of music."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mgen.core.errors import ConfigError, DataError
from mgen.evaluate.notes import FORMATS, file_format


def render(
    files: Annotated[
        list[Path],
        typer.Argument(help="Music files: .mid, .abc, .krn, .xml, .mxl.", show_default=False),
    ],
    wav: Annotated[
        bool, typer.Option("--wav", help="Audio through FluidSynth and a General MIDI soundfont.")
    ] = False,
    png: Annotated[bool, typer.Option("--png", help="A piano roll (pitch against beats).")] = False,
    musicxml: Annotated[
        bool, typer.Option("--musicxml", help="MusicXML for MuseScore or any notation editor.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option(help="Folder for the outputs (default: beside each file).")
    ] = None,
    soundfont: Annotated[
        Path | None,
        typer.Option(
            help="A .sf2 soundfont for --wav (default: $MGEN_SOUNDFONT or the system's GM soundfont)."
        ),
    ] = None,
) -> None:
    """Render music files as audio, a piano-roll picture and/or MusicXML; prints each path."""
    if not (wav or png or musicxml):
        raise ConfigError("choose at least one of --wav, --png, --musicxml")
    for f in files:
        if not f.is_file():
            raise DataError(f"no such file: {f}")
        if file_format(f) is None:
            raise DataError(
                f"{f}: cannot render {f.suffix or 'this'} files; use {', '.join(FORMATS)}"
            )
    for f in files:
        for path in render_file(
            f, wav=wav, png=png, musicxml=musicxml, out=out, soundfont=soundfont
        ):
            typer.echo(str(path))


def render_file(
    f: Path,
    *,
    wav: bool = False,
    png: bool = False,
    musicxml: bool = False,
    out: Path | None = None,
    soundfont: Path | None = None,
) -> list[Path]:
    """Write the chosen renderings of one file; returns their paths."""
    from mgen.evaluate import render as r

    stem = (out or f.parent) / f.stem
    written = []
    if png:
        written.append(r.render_png(f, stem.with_suffix(".png")))
    if musicxml:
        written.append(r.render_musicxml(f, stem.with_suffix(".musicxml")))
    if wav:
        written.append(r.render_wav(f, stem.with_suffix(".wav"), soundfont))
    return written


def render_wavs(paths: list[Path]) -> None:
    """`mgen sample --wav`: audio of each written piece (its MIDI file when there is one)."""
    midis = [p for p in dict.fromkeys(paths) if file_format(p) == "midi"]
    chosen = midis or list(dict.fromkeys(paths))
    for f in chosen:
        for path in render_file(f, wav=True):
            typer.echo(str(path))
