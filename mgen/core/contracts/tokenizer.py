"""The tokenizer contract: files of one format <-> pieces (token lists), on one screen.

Every tokenizer has these ten members, and the engine needs nothing else (docs/plugins.md):

    Config    its settings (a TokenizerConfig dataclass)     config   the settings of this one
    recipe    training defaults (contracts.recipe)            vocab    its vocabulary, once fitted
    format    the files it reads (mgen.formats.base.Format)   read(path) -> pieces
    version   bump it when `read` changes its tokens          write(tokens, path) -> Path
    state_dict(), from_state_dict(state): what a run saves in tokenizer.json

Everything else is an optional protocol a tokenizer opts into by defining a method, each in its
own module here: transpose, grammar, judge (melody, count_notes), loops (loop_neutral), primer
(parse_primer), cutoff (cut_off), state (extra_state), vocabulary (fit), learning (learn),
ensemble (with_ensemble), controls (attributes), live (score). A tokenizer written for
0.1 keeps working for one release (contracts.legacy). Tokenizers never import torch. The engine
wraps every piece in `<start>` ... `<end>`. What the plugins listing shows is the first line of the
class's docstring (or of a `description` attribute, when it sets one).
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from mgen.core.contracts import legacy
from mgen.core.contracts.config import Config
from mgen.core.contracts.errors import CheckpointError, ConfigError
from mgen.core.contracts.recipe import Recipe
from mgen.core.contracts.state import extra_state, load_extra_state
from mgen.core.contracts.vocab import END, PAD, SPECIALS, START, UNK, Vocab
from mgen.core.contracts.vocabulary import require_vocab
from mgen.formats.base import Format

__all__ = [
    "END",
    "PAD",
    "SPECIALS",
    "START",
    "UNK",
    "Tokenizer",
    "TokenizerConfig",
    "Vocab",
    "to_midi",
]


@dataclasses.dataclass
class TokenizerConfig(Config):
    """Settings the engine itself reads; a tokenizer's own Config subclasses this."""

    min_count: int = 1  # tokens rarer than this in the training pieces become <unk>

    def validate(self) -> None:
        if not isinstance(self.min_count, int) or self.min_count < 1:
            raise ConfigError(f"min_count must be an integer >= 1, got {self.min_count!r}")


class Tokenizer(ABC):
    """One symbolic format as tokens. Subclasses set the class attributes and implement
    `read` and `write`."""

    #: Its settings: `-T key=value`, saved in tokenizer.json.
    Config: ClassVar[type[TokenizerConfig]] = TokenizerConfig
    #: Training defaults: dataset, time budget, batching, window, how to split.
    recipe: ClassVar[Recipe] = Recipe()
    #: The files it reads and writes: their patterns, suffix, notes, checks and MIDI conversion.
    format: ClassVar[Format] = Format()
    #: Bump when `read` produces different tokens for the same file (invalidates caches).
    version: ClassVar[str] = "1"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A tokenizer written to the 0.1 contract gets its recipe and format from its old
        class attributes and hooks, with a DeprecationWarning (contracts.legacy)."""
        super().__init_subclass__(**kwargs)
        legacy.adapt(cls)

    def __init__(self, config: TokenizerConfig | None = None):
        self.config = config if config is not None else type(self).Config()
        self.vocab: Vocab | None = None  # built by the engine (contracts.vocabulary) or loaded

    @abstractmethod
    def read(self, path: Path) -> list[list[str]]:
        """Parse one file into pieces (no <start>/<end>). Raise DataError for unusable input."""

    @abstractmethod
    def write(self, tokens: list[str], path: Path) -> Path:
        """Write one piece in the native format at `path` (the format's suffix added if missing);
        a piece that cannot be written raises DataError."""

    def state_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "config": self.config.to_dict(),
            "vocab": require_vocab(self).tokens,
            "extra": extra_state(self),
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> Tokenizer:
        try:
            tok = cls(cls.Config.from_dict(state["config"]))
            tok.vocab = Vocab(state["vocab"])
            load_extra_state(tok, state.get("extra", {}))
        except (KeyError, TypeError) as e:
            raise CheckpointError(f"tokenizer state is incomplete or malformed ({e})") from None
        return tok


def to_midi(tok: Tokenizer, tokens: list[str], out: Path, native: Path | None = None) -> Path:
    """One piece as MIDI at `out` (.mid): `native`, the file `tok.write` wrote of it (written
    beside `out` when not given), converted by its format. A 0.1 tokenizer converts the tokens
    itself (its deprecated `to_midi`)."""
    out = Path(out).with_suffix(".mid")
    if isinstance(tok.format, legacy.Format01):
        return tok.format.piece_to_midi(tok, tokens, out)
    native = Path(native) if native is not None else Path(tok.write(tokens, out))
    if native == out:
        return out  # a MIDI-native tokenizer has written it
    return Path(tok.format.to_midi(native, out))
