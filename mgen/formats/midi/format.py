"""MIDI files as a Format: their notes as played (not quantized), one piece a file."""

from __future__ import annotations

import shutil
from pathlib import Path

from mgen.core.contracts.io import atomic_path
from mgen.formats.base import Format
from mgen.formats.score import Piece


class MidiFormat(Format):
    """Standard MIDI files."""

    name = "midi"
    # Upper case too: folders are globbed case-sensitively on Linux (piano-midi.de has .MID files).
    patterns = ("*.mid", "*.midi", "*.MID", "*.MIDI")
    suffix = ".mid"

    def read_notes(self, path: Path, limit: int | None = None) -> list[Piece]:
        """Every non-drum note, timed in beats: one piece."""
        from mgen.formats.midi.notes import midi_piece

        del limit  # one piece a file
        return [midi_piece(path)]

    def to_midi(self, path: Path, out: Path) -> Path:
        """The file itself, copied to `out` when that is elsewhere."""
        path, out = Path(path), Path(out)
        if path.resolve() != out.resolve():
            with atomic_path(out) as tmp:
                shutil.copyfile(path, tmp)
        return out


MIDI = MidiFormat()
