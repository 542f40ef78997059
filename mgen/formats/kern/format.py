"""Humdrum **kern files as a Format: one piece per spine (a voice), read with music21."""

from __future__ import annotations

from pathlib import Path

from mgen.formats.base import Format
from mgen.formats.kern.notes import read_kern_notes
from mgen.formats.score import Piece


class KernFormat(Format):
    """Humdrum **kern scores (`.krn`)."""

    name = "kern"
    patterns = ("*.krn",)
    suffix = ".krn"

    def read_notes(self, path: Path, limit: int | None = None) -> list[Piece]:
        """One score per spine (a melody, as the kern tokenizer reads it), so a 4-voice mass
        compares with generated melodies voice by voice; notes as written: no transposition,
        no duration filter, chords whole."""
        return read_kern_notes(Path(path), limit)

    def to_midi(self, path: Path, out: Path) -> Path:
        """One spine of notes (what mgen writes) note by note at its `*MM` tempo; any other
        score through music21."""
        from mgen.formats.kern.midi import kern_to_midi

        return kern_to_midi(Path(path), Path(out))


KERN = KernFormat()
