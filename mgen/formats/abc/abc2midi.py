"""The abc2midi program (abcMIDI), mgen's one way to run it: converting an ABC file to MIDI and
collecting its "Error" lines.

abc2midi exits 0 whatever it finds, so the file it writes and the lines it prints are what
count; it may leave files (barloc.txt) in its working folder, so it runs in a folder of its own.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from mgen.core.contracts.errors import DataError

T = TypeVar("T")
_ERROR = re.compile(r"^Error in line-char (\d+)-(\d+) : (.*)$")


@functools.cache
def abc2midi() -> str | None:
    """The abc2midi program, if installed."""
    return shutil.which("abc2midi")


def _run(path: Path, args: list[str], timeout: float, then: Callable[[str, Path], T]) -> T:
    """Run `abc2midi PATH ARGS` in a fresh folder; `then(printed text, folder)` reads what it
    left before the folder goes. DataError when it cannot run (missing, failed, too slow)."""
    binary = abc2midi()
    if binary is None:
        raise DataError("abc2midi is not installed (apt-get install abcmidi)")
    with tempfile.TemporaryDirectory(prefix="mgen-abc2midi-") as tmp:
        try:
            proc = subprocess.run(
                [binary, str(Path(path).resolve()), *args], capture_output=True, text=True,
                timeout=timeout, errors="replace", cwd=tmp,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as e:
            raise DataError(f"abc2midi failed to run: {e}") from None
        return then(proc.stdout + proc.stderr, Path(tmp))


def to_midi(path: Path, out: Path) -> Path:
    """`path` converted by abc2midi (every tune, one file) and written at `out`; DataError with
    abc2midi's first "Error" line when it writes nothing."""

    def keep(printed: str, folder: Path) -> Path:
        written = folder / "out.mid"
        if not written.exists():
            said = [ln for ln in printed.splitlines() if "Error" in ln][:1]
            raise DataError("abc2midi wrote no MIDI" + (f": {said[0].strip()}" if said else ""))
        from mgen.core.contracts.io import atomic_path

        with atomic_path(Path(out)) as dest:
            dest.write_bytes(written.read_bytes())
        return Path(out)

    return _run(path, ["-o", "out.mid"], 60, keep)


def convert_problem(path: Path) -> str | None:
    """None if abc2midi writes a MIDI file with notes from `path`, else why not."""
    from mgen.formats.midi.notes import midi_piece

    with tempfile.TemporaryDirectory(prefix="mgen-abc2midi-out-") as tmp:
        try:
            midi = to_midi(path, Path(tmp) / "out.mid")
        except DataError as e:
            return str(e)
        try:
            midi_piece(midi)
        except DataError as e:
            return f"abc2midi output: {e}"
    return None


def error_lines(path: Path) -> list[tuple[int, str]]:
    """abc2midi's "Error" lines for a file (`abc2midi FILE -c`: checks, writes nothing):
    (line, message) each; a failure to run is one line at 0. Needs abc2midi."""

    def errors(printed: str, folder: Path) -> list[tuple[int, str]]:
        del folder
        found = (_ERROR.match(ln.strip()) for ln in printed.splitlines())
        return [(int(m[1]), m[3]) for m in found if m]

    try:
        return _run(path, ["-c"], 120, errors)
    except DataError as e:
        return [(0, str(e))]
