"""The dataset contract: a named corpus that a tokenizer reads (entry-point group `mgen.datasets`).

A dataset is a list of files. It may be written on first use (e.g. MIDI exported from scores);
then `ready()` says whether that has happened, so listing datasets never starts the work.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar


class Dataset(ABC):
    """Base class for dataset plugins. Subclasses set the class attributes and `files`."""

    description: ClassVar[str] = ""
    tokenizer: ClassVar[str] = ""  # the tokenizer plugin that reads these files
    format: ClassVar[str] = ""  # for people: "ABC", "**kern", "MIDI", ...
    source: ClassVar[str] = ""  # where the files come from
    licence: ClassVar[str] = ""

    @abstractmethod
    def files(self, progress: bool = True) -> list[Path]:
        """Every file, written first if needed (with a progress bar unless `progress` is off).
        Raise DataError when the files cannot be had."""

    def ready(self) -> bool:
        """Whether `files()` returns at once (nothing left to write)."""
        return True

    def count(self) -> int:
        """Number of files, without writing anything."""
        return len(self.files(progress=False))
