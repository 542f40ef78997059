"""The notes of an ABC file (the ABC format's `read_notes` and `check`), read with music21.

An ABC file may hold many tunes: each `X:` tune is its own piece, parsed on its own, so one bad
tune spoils only itself and a reference corpus can be sampled tune by tune. The tunes are parsed
as written (unlike abc-char's `read`, which cleans header fields for training).
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from mgen.core.contracts.errors import DataError
from mgen.formats.score import Piece

_TUNE_START = re.compile(r"(?m)^(?=X:)")


def abc_tunes(text: str) -> list[str]:
    """The `X:` tunes of an ABC text; a text without any `X:` line is taken as one tune."""
    parts = [p for p in _TUNE_START.split(text) if p.startswith("X:")]
    return parts or [text]


def read_text(path: Path) -> str:
    """A text file as UTF-8, else Latin-1; DataError for binary or unreadable files."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror or e}") from None
    if b"\x00" in data:
        raise DataError(f"{path} is binary, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_abc_notes(path: Path, limit: int | None = None) -> list[Piece]:
    """One piece per tune that music21 reads (at most `limit` tunes, spread evenly over the
    file); DataError when none can be read."""
    pieces, errors = _read(str(path), *_stamp(path), limit)
    if not pieces:
        raise DataError("; ".join(errors) or "no tune")
    return list(pieces)


def abc_problems(path: Path) -> list[str]:
    """Tunes of the file that music21 cannot read, and, when the abc2midi program is installed,
    why abc2midi cannot convert it (one line each)."""
    _, errors = _read(str(path), *_stamp(path), None)
    binary = shutil.which("abc2midi")
    problem = abc2midi_problem(binary, Path(path)) if binary else None
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
) -> tuple[tuple[Piece, ...], tuple[str, ...]]:
    from mgen.formats.m21 import music21_piece, parse

    del mtime, size  # cache key only: a rewritten file is read again
    try:
        tunes = abc_tunes(read_text(Path(path)))
    except DataError as e:
        return (), (str(e),)
    pieces, errors = [], []
    for i in _spread(len(tunes), limit):
        name = path if len(tunes) == 1 else f"{path}#{i + 1}"
        try:
            pieces.append(music21_piece(parse(tunes[i], "abc"), name))
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


def abc2midi_problem(binary: str, path: Path) -> str | None:
    """None if abc2midi writes a MIDI file with notes from `path`, else why not.

    abc2midi exits 0 even when it writes nothing, so the output file is what counts.
    """
    from mgen.formats.midi.notes import midi_piece

    with tempfile.TemporaryDirectory(prefix="mgen-abc2midi-") as tmp:
        out = Path(tmp) / "out.mid"
        try:
            proc = subprocess.run(
                [binary, str(Path(path).resolve()), "-o", str(out)],
                capture_output=True,
                text=True,
                timeout=60,
                errors="replace",
                cwd=tmp,  # abc2midi may leave files in its working folder
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"abc2midi failed to run: {e}"
        if not out.exists():
            said = [ln for ln in proc.stdout.splitlines() if "Error" in ln][:1]
            return "abc2midi wrote no MIDI" + (f": {said[0].strip()}" if said else "")
        try:
            midi_piece(out)
        except DataError as e:
            return f"abc2midi output: {e}"
    return None
