"""The notes of an ABC file (the ABC format's `read_notes` and `check`), read with music21.

An ABC file may hold many tunes: each `X:` tune is its own score, parsed on its own, so one bad
tune spoils only itself and a reference corpus can be sampled tune by tune. The tunes are parsed
as written (unlike abc-char's `read`, which cleans header fields for training), and each score
keeps its tune's text (`Score.source`).
"""

from __future__ import annotations

import functools
from pathlib import Path

from mgen.core.contracts.errors import DataError
from mgen.formats.abc.abc2midi import abc2midi, convert_problem
from mgen.formats.abc.tunes import abc_tunes as abc_tunes  # re-exported: its old home
from mgen.formats.abc.tunes import read_text as read_text  # re-exported: its old home
from mgen.formats.abc.tunes import split_tunes
from mgen.formats.score import Score


def read_abc_notes(path: Path, limit: int | None = None) -> list[Score]:
    """One score per tune that music21 reads (at most `limit` tunes, spread evenly over the
    file); DataError when none can be read."""
    pieces, errors = _read(str(path), *_stamp(path), limit)
    if not pieces:
        raise DataError("; ".join(errors) or "no tune")
    return list(pieces)


def abc_problems(path: Path) -> list[str]:
    """Tunes of the file that music21 cannot read, and, when the abc2midi program is installed,
    why abc2midi cannot convert it (one line each)."""
    _, errors = _read(str(path), *_stamp(path), None)
    problem = convert_problem(Path(path)) if abc2midi() else None
    return [*errors, *([problem] if problem else [])]


def _stamp(path: Path) -> tuple[int, int]:
    try:
        st = Path(path).stat()
    except OSError:
        return (0, 0)  # `_read` reports the missing file
    return st.st_mtime_ns, st.st_size


@functools.lru_cache(maxsize=2)  # eval reads a file, then checks it: parse it once
def _read(
    path: str, mtime: int, size: int, limit: int | None
) -> tuple[tuple[Score, ...], tuple[str, ...]]:
    from mgen.formats.m21 import music21_score, parse

    del mtime, size  # cache key only: a rewritten file is read again
    try:
        tunes = split_tunes(read_text(Path(path)))
    except DataError as e:
        return (), (str(e),)
    pieces, errors = [], []
    for i in _spread(len(tunes), limit):
        name = path if len(tunes) == 1 else f"{path}#{i + 1}"
        text = tunes[i].text
        try:
            pieces.append(music21_score(parse(text, "abc"), name, fmt="abc", source=text))
        except DataError as e:
            errors.append(f"tune {i + 1}: {e}" if len(tunes) > 1 else str(e))
    return tuple(pieces), tuple(errors)


def _spread(n: int, limit: int | None) -> list[int]:
    """At most `limit` of range(n), evenly spread, first and last included; deterministic."""
    if limit is None or n <= limit:
        return list(range(n))
    if limit <= 1:
        return list(range(max(limit, 0)))
    return sorted({round(i * (n - 1) / (limit - 1)) for i in range(limit)})
