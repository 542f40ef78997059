"""MusicXML files as a Format, read and converted by music21: one piece, every part together."""

from __future__ import annotations

from pathlib import Path

from mgen.formats.base import Format
from mgen.formats.score import Piece


class MusicXmlFormat(Format):
    """MusicXML (`.xml`, `.musicxml`, compressed `.mxl`)."""

    name = "musicxml"
    patterns = ("*.xml", "*.musicxml", "*.mxl")
    suffix = ".musicxml"

    def read_notes(self, path: Path, limit: int | None = None) -> list[Piece]:
        from mgen.formats.m21 import music21_score, parse

        del limit  # one piece a file
        return [music21_score(parse(Path(path)), str(path), fmt="musicxml")]

    def to_midi(self, path: Path, out: Path) -> Path:
        from mgen.formats.m21 import write_midi

        return write_midi(Path(path), "musicxml", Path(out))  # type: ignore[arg-type]  # a file


MUSICXML = MusicXmlFormat()
