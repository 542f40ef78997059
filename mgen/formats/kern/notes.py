"""The notes of a Humdrum **kern file, read with music21: the whole file as one score (a track
per spine), or each spine as a score of its own (what the judge compares melody by melody)."""

from __future__ import annotations

from pathlib import Path

from mgen.core.contracts.errors import DataError
from mgen.formats.score import Score

MAX_SPINES, MAX_RECORD_CHARS = 256, 20_000  # per record; real scores stay far below both


def check_records(path: Path) -> str:
    """The file's text, after refusing records no score has before music21 sees them: its
    Humdrum parser slows down quadratically with a record's fields (50,000 took 23 s): one bad
    line stalled loading."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror or e}") from None
    for n, line in enumerate(raw.splitlines(), 1):
        fields = line.count(b"\t") + 1
        if len(line) > MAX_RECORD_CHARS or fields > MAX_SPINES:
            raise DataError(
                f"line {n} is {len(line)} characters in {fields} fields: "
                f"not **kern (at most {MAX_SPINES} spines and {MAX_RECORD_CHARS} characters)"
            )
    return raw.decode("utf-8", errors="replace")


def parts(score) -> list:
    """The spines (music21 parts) of a parsed file, over every score of an Opus."""
    from music21 import stream

    scores = score.scores if isinstance(score, stream.Opus) else [score]
    return [p for s in scores for p in (s.parts or [s])]


def read_kern(path: Path) -> Score:
    """The whole file: a track per spine, with its meter, key and tempo maps and its text."""
    from mgen.formats.m21 import music21_score, parse

    text = check_records(Path(path))
    return music21_score(parse(Path(path), "humdrum"), str(path), fmt="kern", source=text)


def read_kern_notes(path: Path, limit: int | None = None) -> list[Score]:
    """One score per spine, so a 4-voice mass compares with generated melodies voice by voice;
    notes as written: no transposition, no duration filter, chords whole."""
    from mgen.formats.m21 import music21_score, parse

    del limit  # the spines of one file are few: every one is read
    text = check_records(Path(path))
    spines = parts(parse(Path(path), "humdrum"))
    if len(spines) == 1:
        return [music21_score(spines[0], str(path), fmt="kern", source=text)]
    pieces, errors = [], []
    for i, part in enumerate(spines, 1):
        try:
            pieces.append(music21_score(part, f"{path}#{i}", fmt="kern", source=text))
        except DataError as e:
            errors.append(f"spine {i}: {e}")
    if not pieces:
        raise DataError("; ".join(errors) or "no **kern spine")
    return pieces
