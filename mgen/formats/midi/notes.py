"""The notes of a MIDI file, as `mgen eval`, `mgen render` and `mgen serve` read them: the one
MIDI reader's score (`read.read_midi`, symusic), which must have notes."""

from __future__ import annotations

from pathlib import Path

from mgen.core.contracts.errors import DataError
from mgen.formats.midi.read import read_midi
from mgen.formats.score import Score


def midi_piece(path: Path, name: str | None = None) -> Score:
    """Every track of a MIDI file, timed in beats from its ticks (tempo-free), named `name` or
    the path; DataError when no pitched note sounds in it."""
    score = read_midi(Path(path), name=name)
    if not len(score):
        raise DataError("the MIDI file has no notes")
    return score
