"""Any readable file -> pieces of note events (pitch, onset and duration in quarter-note beats).

Which reader takes a file: MIDI (.mid/.midi, mgen's one MIDI reader, symusic) and MusicXML
(.xml/.musicxml/.mxl, music21), the interchange formats every tool reads, are read here. Any other file goes to the
first installed tokenizer plugin whose `file_patterns` match its name: its `read_notes`, or,
when that gives None, each piece its `read` returns written with its `to_midi` and read back as
MIDI. So a third-party format is judged and rendered with no change to mgen.
"""

from __future__ import annotations

import fnmatch
import functools
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mgen.core.contracts import registry
from mgen.core.contracts.errors import DataError, MgenError, PluginError
from mgen.core.contracts.tokenizer import Tokenizer
from mgen.formats.midi.notes import midi_piece
from mgen.formats.score import DEFAULT_BAR, Piece, Score, make_piece

__all__ = [
    "DEFAULT_BAR",
    "Piece",
    "Reader",
    "Score",
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
#: The readers of mgen itself: name -> suffixes (compared in lower case).
BUILTIN = {MIDI: (".mid", ".midi"), MUSICXML: (".xml", ".musicxml", ".mxl")}
#: Folders are globbed case-sensitively on Linux: upper-case MIDI names are common.
BUILTIN_PATTERNS = ("*.mid", "*.midi", "*.MID", "*.MIDI", "*.xml", "*.musicxml", "*.mxl")


@dataclass(frozen=True)
class Reader:
    """Who reads a file: `name` is "midi", "musicxml" or the tokenizer plugin's name."""

    name: str
    tokenizer: Tokenizer | None = None  # set for a plugin's format


# -- which reader -----------------------------------------------------------------------------


def _plugins() -> list[tuple[str, type[Tokenizer]]]:
    """Installed tokenizer plugins that declare file patterns; broken ones are left out."""
    return list(_plugin_classes(tuple(registry.names("tokenizer"))))


@functools.cache
def _plugin_classes(names: tuple[str, ...]) -> tuple[tuple[str, type[Tokenizer]], ...]:
    found = []
    for name in names:
        try:
            cls = registry.load("tokenizer", name)
        except PluginError:
            continue  # `mgen plugins` says why; other formats still work
        if isinstance(cls, type) and issubclass(cls, Tokenizer) and cls.file_patterns:
            found.append((name, cls))
    # A plugin with its own note reader goes first when two claim one pattern.
    found.sort(key=lambda nc: (nc[1].read_notes is Tokenizer.read_notes, nc[0]))
    return tuple(found)


def reader_for(path: Path) -> Reader | None:
    """The Reader of `path`, chosen by its name alone, or None when nothing reads it."""
    path = Path(path)
    for name, suffixes in BUILTIN.items():
        if path.suffix.lower() in suffixes:
            return Reader(name)
    for name, tok in _instances():
        if any(fnmatch.fnmatchcase(path.name, pat) for pat in tok.file_patterns):
            return Reader(name, tok)
    return None


def _instances() -> list[tuple[str, Tokenizer]]:
    out = []
    for name, cls in _plugins():
        try:
            out.append((name, cls()))
        except Exception:  # noqa: BLE001 - a plugin that cannot be built reads nothing
            continue
    return out


def readable_patterns() -> list[str]:
    """Glob patterns of every file some reader takes (for searching folders)."""
    plugins = [pat for _, cls in _plugins() for pat in cls.file_patterns]
    return list(dict.fromkeys([*BUILTIN_PATTERNS, *plugins]))


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
) -> tuple[list[Score], list[str]]:
    """Pieces of one file and the reasons any part of it could not be read.

    `limit` keeps at most that many pieces of a file holding several, spread evenly across it.
    A file that cannot be read at all gives ([], [reason]).
    """
    path = Path(path)
    reader = reader or reader_for(path)
    if reader is None:
        return [], [f"unsupported file type {path.suffix or '(none)'}"]
    if reader.tokenizer is not None:
        return read_with(reader.tokenizer, path, limit)
    try:
        if reader.name == MIDI:
            return [midi_piece(path)], []
        return [musicxml_piece(path)], []
    except DataError as e:
        return [], [str(e)]


def read_with(
    tok: Tokenizer, path: Path, limit: int | None = None
) -> tuple[list[Score], list[str]]:
    """A file in `tok`'s format: its `read_notes`, or when that gives None, each piece of its
    `read` through `to_midi`. -> (pieces, reasons). Plugin failures never escape."""
    path = Path(path)
    try:
        pieces = tok.read_notes(path, limit)
        if pieces is None:
            return _via_midi(tok, path, limit)
    except Exception as e:  # noqa: BLE001 - a plugin may fail in any way on a bad file
        return [], [reason(e)]
    return evenly(list(pieces), limit), []


def _via_midi(tok: Tokenizer, path: Path, limit: int | None) -> tuple[list[Score], list[str]]:
    """`read`, then each chosen piece written with `to_midi` and its notes read back."""
    token_pieces = tok.read(path)
    if not token_pieces:
        return [], ["no piece"]
    several = len(token_pieces) > 1
    pieces, errors = [], []
    with tempfile.TemporaryDirectory(prefix="mgen-notes-") as tmp:
        for i in evenly(range(len(token_pieces)), limit):
            name = f"{path}#{i + 1}" if several else str(path)
            try:
                midi = tok.to_midi(token_pieces[i], Path(tmp) / f"piece-{i + 1}.mid")
                pieces.append(midi_piece(Path(midi), name))
            except Exception as e:  # noqa: BLE001 - as above
                errors.append(f"piece {i + 1}: {reason(e)}" if several else reason(e))
    return pieces, errors


def musicxml_piece(path: Path) -> Score:
    """A MusicXML file (music21): one score, a track per part."""
    from mgen.formats.m21 import music21_score, parse

    return music21_score(parse(Path(path)), str(path), fmt="musicxml")


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
