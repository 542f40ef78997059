"""A toy dataset shipped inside the package: scales and arpeggios in the `.notes` format."""

from __future__ import annotations

from pathlib import Path

from mgen.plugin import Dataset


class ToyScales(Dataset):
    """Scales and arpeggios in every key, in the toy `.notes` format."""

    tokenizer = "toy-notes"
    format = ".notes"
    source = "mgen-toy-plugin (package data)"
    licence = "CC0"

    def files(self, progress: bool = True) -> list[Path]:
        return sorted((Path(__file__).parent / "data").glob("*.notes"))
