"""Humdrum **kern files as a Format: one piece per spine (a voice), read with music21."""

from __future__ import annotations

from pathlib import Path

from mgen.core.contracts.errors import DataError
from mgen.formats.base import Format
from mgen.formats.score import Piece

MAX_SPINES, MAX_RECORD_CHARS = 256, 20_000  # per record; real scores stay far below both


class KernFormat(Format):
    """Humdrum **kern scores (`.krn`)."""

    name = "kern"
    patterns = ("*.krn",)
    suffix = ".krn"

    def read_notes(self, path: Path, limit: int | None = None) -> list[Piece]:
        """One piece per spine (a melody, as the kern tokenizer reads it), so a 4-voice mass
        compares with generated melodies voice by voice; notes as written: no transposition,
        no duration filter, chords whole."""
        from mgen.formats.m21 import music21_piece, parse

        del limit  # the spines of a score are read together
        check_records(Path(path))
        found = parts(parse(Path(path), "humdrum"))
        if len(found) == 1:
            return [music21_piece(found[0], str(path))]
        pieces, errors = [], []
        for i, part in enumerate(found, 1):
            try:
                pieces.append(music21_piece(part, f"{path}#{i}"))
            except DataError as e:
                errors.append(f"spine {i}: {e}")
        if not pieces:
            raise DataError("; ".join(errors) or "no **kern spine")
        return pieces

    def to_midi(self, path: Path, out: Path) -> Path:
        """One spine of notes (what mgen writes) note by note at its `*MM` tempo; any other
        score through music21."""
        from mgen.formats.kern.midi import kern_to_midi

        return kern_to_midi(Path(path), Path(out))


def check_records(path: Path) -> None:
    """Refuse records no score has before music21 sees them: its Humdrum parser slows down
    quadratically with a record's fields (50,000 took 23 s): one bad line stalled loading."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror or e}") from None
    for n, line in enumerate(raw.splitlines(), 1):
        fields = line.count(b"\t") + 1
        if len(line) > MAX_RECORD_CHARS or fields > MAX_SPINES:
            raise DataError(
                f"line {n} is {len(line)} characters in {fields} fields: "
                f"not **kern (at most {MAX_SPINES} spines and {MAX_RECORD_CHARS} characters)"
            )


def parts(score) -> list:
    """The parts (spines) of a parsed score, or of every score of an opus."""
    from music21 import stream

    scores = score.scores if isinstance(score, stream.Opus) else [score]
    return [p for s in scores for p in (s.parts or [s])]


KERN = KernFormat()
