"""The 0.1 tokenizer contract, honoured for one release with DeprecationWarnings.

A tokenizer written for 0.1 sets class attributes the contract no longer has and overrides base
hooks that moved out of it. `adapt` (run by `Tokenizer.__init_subclass__`) reads them into the
new members: `default_dataset` and friends into its `recipe`, `file_patterns`, `suffix`,
`read_notes`, `check_file` and `to_midi` into its `format` (a `Format01`). Its other hooks keep
their names as optional protocols and need nothing. `Defaults01` holds the 0.1 base methods that
did real work, so a plugin that calls them (`super().fit(counts)`) still runs: the old module
path `mgen.core.tokenizer` gives a Tokenizer built on it (mgen.core.contracts.tokenizer01).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mgen.core.contracts.errors import DataError
from mgen.core.contracts.vocab import Vocab
from mgen.formats.base import Format
from mgen.formats.score import Piece

OLD_RECIPE = {"default_dataset": "dataset", "default_time_budget": "time_budget",
              "default_batching": "batching", "default_seq_len": "seq_len", "split_by": "split_by"}  # fmt: skip
OLD_FORMAT = ("file_patterns", "suffix", "read_notes", "check_file", "to_midi")
PORTING = 'docs/plugins.md, "Porting a plugin from 0.1"'


def adapt(cls: type) -> None:
    """Read a 0.1 tokenizer class's old attributes and hooks into `recipe` and `format`."""
    old = {new: cls.__dict__[name] for name, new in OLD_RECIPE.items() if name in cls.__dict__}
    if old:
        _warn(cls, sorted(k for k in OLD_RECIPE if k in cls.__dict__), "recipe = Recipe(...)")
        cls.recipe = dataclasses.replace(cls.recipe, **old)
    if "format" in cls.__dict__:
        return  # a class that names its format is written to the new contract
    names = [name for name in OLD_FORMAT if name in cls.__dict__]
    if names:
        _warn(cls, names, "format = <a mgen.formats.base.Format>")
    if names or isinstance(cls.format, Format01):
        cls.format = Format01(cls)  # a subclass of a 0.1 tokenizer reads with its own methods


def _warn(cls: type, names: list[str], instead: str) -> None:
    warnings.warn(
        f"{cls.__name__}: {', '.join(names)} belong to the 0.1 tokenizer contract, deprecated "
        f"(removed in the next release); set `{instead}` instead ({PORTING})",
        DeprecationWarning,
        stacklevel=5,  # _warn, adapt, __init_subclass__, ABCMeta.__new__, the class statement
    )


class Format01(Format):
    """The file format of a 0.1 tokenizer: its `file_patterns` and `suffix`, and its hooks
    called on a tokenizer with default settings (as mgen did in 0.1)."""

    def __init__(self, cls: type):
        self.cls = cls
        self.name = cls.__name__
        self.patterns = tuple(getattr(cls, "file_patterns", ()))
        self.suffix = getattr(cls, "suffix", ".txt")
        #: Whether the tokenizer reads notes itself; if not, mgen reads each of its pieces
        #: through `to_midi` (mgen.evaluate.notes).
        self.reads_notes = callable(getattr(cls, "read_notes", None))

    def read_notes(self, path: Path, limit: int | None = None) -> list[Piece] | None:
        return self.cls().read_notes(path, limit) if self.reads_notes else None

    def check(self, path: Path) -> list[str]:
        own = getattr(self.cls, "check_file", None)
        return list(own(self.cls(), path)) if callable(own) else []

    def to_midi(self, path: Path, out: Path) -> Path:
        """The file's first piece as MIDI, through the tokenizer's own `to_midi`."""
        tok = self.cls()
        pieces = tok.read(Path(path))
        if not pieces:
            raise DataError("no piece")
        return self.piece_to_midi(tok, pieces[0], out)

    def piece_to_midi(self, tok: Any, tokens: list[str], out: Path) -> Path:
        """One piece as MIDI with `tok`'s 0.1 `to_midi` (its settings, e.g. a tempo, apply)."""
        own = getattr(type(tok), "to_midi", None)
        if callable(own):
            return Path(own(tok, tokens, Path(out)))
        return Defaults01.to_midi(tok, tokens, Path(out))


class Defaults01:
    """The 0.1 base methods that did real work, for 0.1 plugins that call them."""

    vocab: Vocab | None
    config: Any

    def fit(self, counts: Counter[str]) -> None:
        self.vocab = Vocab.build(counts, self.config.min_count)

    def require_vocab(self) -> Vocab:
        if self.vocab is None:
            raise DataError("tokenizer has no vocabulary yet: fit it on data or load it from a run")
        return self.vocab

    def encode(self, tokens: Iterable[str]) -> list[int]:
        return self.require_vocab().encode(tokens)

    def decode(self, ids: Iterable[int]) -> list[str]:
        return self.require_vocab().decode(ids)

    def extra_state(self) -> dict[str, Any]:
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        del state

    def parse_primer(self, text: str) -> list[str]:
        return text.split()

    def cut_off(self, tokens: list[str]) -> list[str]:
        return tokens

    def to_midi(self, tokens: list[str], path: Path) -> Path:
        suffix = getattr(self, "suffix", ".txt")
        if suffix.lower() in (".mid", ".midi"):
            return self.write(tokens, Path(path).with_suffix(suffix))  # type: ignore[attr-defined]
        raise DataError(f"{type(self).__name__} cannot convert to MIDI")
