"""Any readable file -> pieces of note events (pitch, onset and duration in quarter-note beats).

Which format a file is in is told by its name (mgen.core.contracts.formats): MIDI and MusicXML, the
interchange formats every tool reads, then the `format` of each installed tokenizer plugin. The
format reads its notes, or, when it gives None, converts the file to MIDI, which is read. So a
third-party format is judged and rendered with no change to mgen.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mgen.core.contracts import formats as find
from mgen.core.contracts.errors import DataError, MgenError
from mgen.core.contracts.legacy import Format01
from mgen.core.contracts.tokenizer import Tokenizer
from mgen.formats.base import Format
from mgen.formats.midi.notes import midi_piece
from mgen.formats.score import DEFAULT_BAR, Piece, Score, make_piece

__all__ = [
    "DEFAULT_BAR",
    "Piece",
    "Score",
    "Reader",
    "evenly",
    "make_piece",
    "midi_piece",
    "musicxml_piece",
    "read_pieces",
    "read_with",
    "readable_patterns",
    "reader_for",
    "reason",
    "require_reader",
    "supported_suffixes",
]

MIDI, MUSICXML = "midi", "musicxml"


@dataclass(frozen=True)
class Reader:
    """Who reads a file: `format`, under `name`: "midi", "musicxml" or the name of the tokenizer
    plugin whose format it is (`plugin`, that tokenizer's class)."""

    name: str
    format: Format
    plugin: Any = None

    @functools.cached_property
    def tokenizer(self) -> Tokenizer | None:
        """The plugin's tokenizer with default settings (its token cache and melodies index a
        reference in its format); None for a built-in format."""
        if self.plugin is None:
            return None
        try:
            return self.plugin()
        except Exception:  # noqa: BLE001 - a plugin that cannot be built reads nothing itself
            return None


# -- which reader -----------------------------------------------------------------------------


def reader_for(path: Path) -> Reader | None:
    """The Reader of `path`, chosen by its name alone, or None when nothing reads it."""
    found = find.find(Path(path))
    return Reader(found.name, found.format, found.tokenizer) if found is not None else None


def readable_patterns() -> list[str]:
    """Glob patterns of every file some reader takes (for searching folders)."""
    return find.patterns()


def supported_suffixes() -> list[str]:
    """Readable file kinds for messages: suffixes where patterns are `*.ext`, else patterns."""
    kinds = []
    for pat in readable_patterns():
        kinds.append(pat[1:].lower() if pat.startswith("*.") and "*" not in pat[1:] else pat)
    return sorted(dict.fromkeys(kinds))


def require_reader(path: Path, action: str = "read") -> Reader:
    """The Reader of `path`; DataError naming what can be read when there is none."""
    reader = reader_for(path)
    if reader is None:
        kind = Path(path).suffix or "extension-less"
        raise DataError(
            f"{path}: cannot {action} {kind} files; readable: {', '.join(supported_suffixes())} "
            "(MIDI, MusicXML and the formats of the installed tokenizer plugins)"
        )
    return reader


# -- reading ----------------------------------------------------------------------------------


def read_pieces(
    path: Path, limit: int | None = None, reader: Reader | None = None
) -> tuple[list[Piece], list[str]]:
    """Pieces of one file and the reasons any part of it could not be read.

    `limit` keeps at most that many pieces of a file holding several, spread evenly across it.
    A file that cannot be read at all gives ([], [reason]).
    """
    path = Path(path)
    reader = reader or reader_for(path)
    if reader is None:
        return [], [f"unsupported file type {path.suffix or '(none)'}"]
    return read_with(reader.format, path, limit)


def read_with(fmt: Format, path: Path, limit: int | None = None) -> tuple[list[Piece], list[str]]:
    """A file in the format `fmt`: its `read_notes`, or when that gives None, the file through
    its `to_midi`. -> (pieces, reasons). Plugin failures never escape."""
    path = Path(path)
    try:
        pieces = fmt.read_notes(path, limit)
        if pieces is None:
            return _via_midi(fmt, path, limit)
    except Exception as e:  # noqa: BLE001 - a plugin may fail in any way on a bad file
        return [], [reason(e)]
    return evenly(list(pieces), limit), []


def _via_midi(fmt: Format, path: Path, limit: int | None) -> tuple[list[Piece], list[str]]:
    """The file written as MIDI by its format and read back. A 0.1 tokenizer's format: each
    piece of its `read`, chosen evenly, through the tokenizer's own `to_midi`."""
    if not isinstance(fmt, Format01):
        with tempfile.TemporaryDirectory(prefix="mgen-notes-") as tmp:
            midi = fmt.to_midi(path, Path(tmp) / f"{path.stem}.mid")
            return [midi_piece(Path(midi), str(path))], []
    tok = fmt.cls()
    token_pieces = tok.read(path)
    if not token_pieces:
        return [], ["no piece"]
    several = len(token_pieces) > 1
    pieces, errors = [], []
    with tempfile.TemporaryDirectory(prefix="mgen-notes-") as tmp:
        for i in evenly(range(len(token_pieces)), limit):
            name = f"{path}#{i + 1}" if several else str(path)
            try:
                midi = fmt.piece_to_midi(tok, token_pieces[i], Path(tmp) / f"piece-{i + 1}.mid")
                pieces.append(midi_piece(Path(midi), name))
            except Exception as e:  # noqa: BLE001 - as above
                errors.append(f"piece {i + 1}: {reason(e)}" if several else reason(e))
    return pieces, errors


def musicxml_piece(path: Path) -> Piece:
    """A MusicXML file (music21): one score, a track per part."""
    from mgen.formats.musicxml import MUSICXML

    return MUSICXML.read_notes(Path(path))[0]


def evenly(items: Sequence[Any], n: int | None) -> list[Any]:
    """At most `n` items spread evenly over `items` (first and last included); deterministic."""
    if n is None or len(items) <= n:
        return list(items)
    if n <= 1:
        return list(items[:n])
    idx = np.unique(np.round(np.linspace(0, len(items) - 1, n)).astype(int))
    return [items[i] for i in idx]


def reason(e: Exception) -> str:
    """One line saying why `e` happened (its type too, unless it is an mgen error)."""
    if isinstance(e, MgenError):
        return str(e)
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:160] if text else ''}".rstrip(": ")
