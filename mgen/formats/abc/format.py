"""ABC files as a Format: one piece per `X:` tune, checked by music21 and abc2midi."""

from __future__ import annotations

from pathlib import Path

from mgen.formats.base import Format
from mgen.formats.score import Piece


class AbcFormat(Format):
    """ABC notation (`.abc`, and `.txt` collections of tunes)."""

    name = "abc"
    patterns = ("*.abc", "*.txt")
    suffix = ".abc"

    def read_notes(self, path: Path, limit: int | None = None) -> list[Piece]:
        """One piece per `X:` tune, as written (at most `limit` tunes, spread evenly)."""
        from mgen.formats.abc.notes import read_abc_notes

        return read_abc_notes(path, limit)

    def check(self, path: Path) -> list[str]:
        """Tunes music21 cannot read; abc2midi's complaint when that program is installed."""
        from mgen.formats.abc.notes import abc_problems

        return abc_problems(path)

    def to_midi(self, path: Path, out: Path) -> Path:
        """The file's text through music21 (every tune it holds)."""
        from mgen.formats.abc.notes import read_text
        from mgen.formats.m21 import write_midi

        return write_midi(read_text(Path(path)), "abc", Path(out))


ABC = AbcFormat()
