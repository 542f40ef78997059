"""Accompaniment, an optional protocol: a tokenizer that writes several tracks lets sampling
keep one track of a file note for note and write new ones around it (`mgen sample --accompany
melody.mid --instruments "piano,bass"`).

A tokenizer opts in with `accompaniment(path, instruments, track) -> Accompaniment`: the
opening tokens (the new ensemble: the given track first, then `instruments`), `forced` (the
most tokens the given track adds to a sample), `grammar(inner, vocab)` (its own grammar wrapped
so that the given track's tokens are forced where they fall) and `kept(tokens)` (None where a
sample holds the given track exactly, else what differs: checked after sampling, never
assumed). A tokenizer without it cannot accompany: `accompaniment_of` says so, naming those
that can.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from mgen.core.contracts.errors import ConfigError, DataError


@runtime_checkable
class Accompanies(Protocol):
    def accompaniment(self, path: Path, instruments: Sequence[str], track: int | None) -> Any: ...


def accompaniment_of(
    tok: object, name: str, path: Path | str, instruments: Sequence[str], track: int | None
) -> Any:
    """The tokenizer's accompaniment of `path`'s track `track`; ConfigError for a tokenizer
    (registered as `name`) that cannot accompany, DataError for a file that is not there."""
    if not isinstance(tok, Accompanies):
        able = ", ".join(accompanying()) or "none installed"
        raise ConfigError(f"--accompany: the {name} tokenizer writes no tracks, so it cannot "
                          f"accompany; tokenizers that can: {able}")  # fmt: skip
    path = Path(path)
    if not path.is_file():
        raise DataError(f"--accompany: cannot read {path}: no such file")
    return tok.accompaniment(path, list(instruments), track)


def accompanying() -> list[str]:
    """The installed tokenizers that can accompany a track."""
    from mgen.core.contracts import registry

    return registry.names_with("tokenizer", "accompaniment")
