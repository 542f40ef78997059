"""A file format: which files it is, how to read their notes, how to check them, how to hear them.

One `Format` per kind of file (ABC, **kern, MIDI; a plugin may add its own). Tokenizers name the
format they read and write (`Tokenizer.format`); `mgen eval`, `mgen render` and `mgen serve` find a
file's format by its name (`format_of`) and never look inside a tokenizer.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

from mgen.core.contracts.errors import DataError
from mgen.formats.score import Score


class Format:
    """Files of one kind. Subclasses set `name`, `patterns` and `suffix` and override what they can."""

    name: str = ""
    #: Glob patterns of this format's files, e.g. ("*.abc",).
    patterns: tuple[str, ...] = ()
    #: The suffix written, e.g. ".abc".
    suffix: str = ".txt"

    def matches(self, path: Path) -> bool:
        return any(fnmatch.fnmatchcase(Path(path).name.lower(), p.lower()) for p in self.patterns)

    def read_notes(self, path: Path, limit: int | None = None) -> list[Score] | None:
        """The notes of a file: at most `limit` pieces (spread evenly) when given. None: this format
        cannot say; mgen then converts the file with `to_midi` and reads that."""
        del path, limit
        return None

    def check(self, path: Path) -> list[str]:
        """Validity problems beyond reading its notes (e.g. an external tool's), one line each."""
        del path
        return []

    def to_midi(self, path: Path, out: Path) -> Path:
        """Write the file at `path` as MIDI at `out`; DataError when it cannot be converted."""
        del out
        raise DataError(
            f"{self.name or type(self).__name__} files cannot be converted to MIDI ({path})"
        )
