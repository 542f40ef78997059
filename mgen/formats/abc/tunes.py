"""An ABC file's text and its tunes: the one splitter that the notes, the checks and the judge's
draw all count tunes with.

A tune starts at a line that begins with `X:` and runs to the next one; the text before the
first (file-wide fields) belongs to no tune; a text without any `X:` line is one tune.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mgen.core.contracts.errors import DataError


@dataclass(frozen=True)
class TuneText:
    text: str  # as written, its line ends kept
    line: int  # 1-based line of its `X:` field (1 for a text without any)


def split_tunes(text: str) -> list[TuneText]:
    """The tunes of an ABC text, in order."""
    lines = text.splitlines(keepends=True)
    starts = [n for n, ln in enumerate(lines) if ln.startswith("X:")]
    if not starts:
        return [TuneText(text, 1)]
    bounds = [*starts, len(lines)]
    return [TuneText("".join(lines[a:b]), a + 1) for a, b in zip(bounds, bounds[1:], strict=False)]


def abc_tunes(text: str) -> list[str]:
    """The tunes of an ABC text as written (what music21 parses)."""
    return [t.text for t in split_tunes(text)]


def tune_texts(text: str) -> tuple[list[str], list[int]]:
    """The tunes of an ABC text with `\\n` line ends and a final one (what the strict check
    reads), and the line each starts on (1-based)."""
    tunes = split_tunes(text)
    if len(tunes) == 1 and not tunes[0].text.startswith("X:"):
        return [text], [1]
    return ["\n".join(t.text.splitlines()) + "\n" for t in tunes], [t.line for t in tunes]


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
