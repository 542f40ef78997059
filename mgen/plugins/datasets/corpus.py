"""Datasets read straight from music21's installed corpus: folk tunes in ABC, **kern voices."""

from __future__ import annotations

from pathlib import Path

from mgen.core.contracts.dataset import Dataset

CORPUS_TERMS = "music21 corpus terms: public-domain music, encodings used by permission"


class FolkAbc(Dataset):
    """~11,600 folk tunes in ABC: Essen, O'Neill's 1850, Ryan's Mammoth."""

    tokenizer = "abc-char"
    format = "ABC"
    source = "music21 corpus: essenFolksong, oneills1850, ryansMammoth (*.abc)"
    licence = CORPUS_TERMS + " (Essen: non-commercial)"
    collections = ("essenFolksong", "oneills1850", "ryansMammoth")

    def files(self, progress: bool = True) -> list[Path]:
        from mgen.formats.m21 import corpus_files

        return corpus_files(self.collections, ("*.abc",))


class PalestrinaKern(Dataset):
    """1,300+ **kern files of Palestrina (and some Bach), one melody per voice."""

    tokenizer = "kern"
    format = "**kern"
    source = "music21 corpus: palestrina, bach (*.krn)"
    licence = CORPUS_TERMS
    collections = ("palestrina", "bach")

    def files(self, progress: bool = True) -> list[Path]:
        from mgen.formats.m21 import corpus_files

        return corpus_files(self.collections, ("*.krn",))
