"""The tokenizer contract: files of one format <-> pieces (token lists) <-> ids.

Tokenizers never import torch. The engine wraps every piece in `<start>` ... `<end>`.

Required: `read` and `write`. Everything else has a working default; override what your format
can do better. The engine reads nothing else from a tokenizer: no attribute is looked up by name.
"""

from __future__ import annotations

import dataclasses
import warnings
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from mgen.core.contracts.config import Config
from mgen.core.contracts.errors import CheckpointError, ConfigError, DataError
from mgen.core.contracts.recipe import Recipe
from mgen.core.contracts.vocab import END, PAD, SPECIALS, START, UNK, Vocab
from mgen.formats.score import Piece

__all__ = ["END", "PAD", "SPECIALS", "START", "UNK", "Tokenizer", "TokenizerConfig", "Vocab"]


@dataclasses.dataclass
class TokenizerConfig(Config):
    """Settings the engine itself reads; a tokenizer's own Config subclasses this."""

    min_count: int = 1  # tokens rarer than this in the training pieces become <unk>

    def validate(self) -> None:
        if not isinstance(self.min_count, int) or self.min_count < 1:
            raise ConfigError(f"min_count must be an integer >= 1, got {self.min_count!r}")


class Tokenizer(ABC):
    """One symbolic format. Subclasses set the class attributes and implement `read`/`write`."""

    description: ClassVar[str] = ""
    #: Bump when `read` produces different tokens for the same file (invalidates caches).
    version: ClassVar[str] = "1"
    Config: ClassVar[type[TokenizerConfig]] = TokenizerConfig
    #: Glob patterns of the files this tokenizer reads, e.g. ("*.abc",). `mgen eval` and
    #: `mgen render` also use them to know which files are in this format.
    file_patterns: ClassVar[tuple[str, ...]] = ()
    #: Suffix of the native format written by `write`, e.g. ".abc".
    suffix: ClassVar[str] = ".txt"
    #: Training defaults: dataset, time budget, batching, window, how to split (contracts.recipe).
    recipe: ClassVar[Recipe] = Recipe()

    _OLD_RECIPE = {"default_dataset": "dataset", "default_time_budget": "time_budget",
                   "default_batching": "batching", "default_seq_len": "seq_len", "split_by": "split_by"}  # fmt: skip

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A plugin written before the recipe (0.1) sets `default_dataset` and friends: they are
        read into its recipe, with a DeprecationWarning."""
        super().__init_subclass__(**kwargs)
        old = {
            new: cls.__dict__[name] for name, new in cls._OLD_RECIPE.items() if name in cls.__dict__
        }
        if old:
            warnings.warn(
                f"{cls.__name__}: {', '.join(sorted(old))} as class attributes are deprecated; "
                "set `recipe = Recipe(...)` (docs/plugins.md)",
                DeprecationWarning,
                stacklevel=2,
            )
            cls.recipe = dataclasses.replace(cls.recipe, **old)

    def __init__(self, config: TokenizerConfig | None = None):
        self.config = config if config is not None else type(self).Config()
        self.vocab: Vocab | None = None

    # -- format: required ------------------------------------------------------------------
    @abstractmethod
    def read(self, path: Path) -> list[list[str]]:
        """Parse one file into pieces (no <start>/<end>). Raise DataError for unusable input."""

    @abstractmethod
    def write(self, tokens: list[str], path: Path) -> Path:
        """Write one piece in the native format at `path` (suffix added if missing)."""

    # -- format: optional ------------------------------------------------------------------
    def to_midi(self, tokens: list[str], path: Path) -> Path:
        """Write one piece as a .mid file; raise DataError when it cannot be converted.
        A format whose `suffix` is .mid needs nothing here: `write` already writes MIDI."""
        if self.suffix.lower() in (".mid", ".midi"):
            return self.write(tokens, Path(path).with_suffix(self.suffix))
        raise DataError(f"{type(self).__name__} cannot convert to MIDI")

    def read_notes(self, path: Path, limit: int | None = None) -> list[Piece] | None:
        """The notes of a file in this format, for `mgen eval` and `mgen render`: at most
        `limit` pieces (spread evenly over the file) when a limit is given.

        None (the default) lets mgen find them itself: each piece `read` returns is written
        with `to_midi` and the MIDI file's notes are read. Raise DataError for bad files."""
        del path, limit
        return None

    def check_file(self, path: Path) -> list[str]:
        """Extra validity checks `mgen eval` runs on a file in this format (e.g. an external
        tool); each problem as one line. Default: none beyond reading its notes."""
        del path
        return []

    def parse_primer(self, text: str) -> list[str]:
        """Turn a user's primer text into tokens; default: whitespace-separated tokens."""
        return text.split()

    def cut_off(self, tokens: list[str]) -> list[str]:
        """A generated piece that reached the length limit (`-n`) before its `<end>`: the part
        worth writing. Default: all of it (a writer that completes what it is given)."""
        return tokens

    def count_notes(self, tokens: list[str]) -> int | None:
        """Notes in one piece, so losses can be compared per note across representations;
        None (the default): this tokenizer does not say, and per-note figures are left out."""
        del tokens
        return None

    def loop_neutral(self, token: str) -> bool:
        """Whether argmax's loop guards must leave `token` alone because repeating it is how
        the format writes long notes or rests (a hold, a rest, a time shift). Default: no."""
        del token
        return False

    def transpositions(self) -> tuple[int, ...]:
        """Semitone shifts training may move each piece by, one drawn per piece and epoch
        (validation is never moved); (0,), the default: no transposition."""
        return (0,)

    def transpose(self, token: str, semitones: int) -> str | None:
        """`token` moved by `semitones`; None when it cannot be (a pitch out of range): pieces
        holding it are not moved that far. Default: every token unchanged."""
        del semitones
        return token

    def fuzz_strategy(self, st: Any) -> Any:
        """A hypothesis strategy of file contents (bytes) in this format for the fuzzer
        (tools/fuzz), built from the `hypothesis.strategies` module passed as `st`;
        None: generic inputs and mutations of real files only."""
        del st
        return None

    def melody(self, tokens: list[str]) -> list[int] | None:
        """The top line of one piece as MIDI pitches, one per note onset (a chord by its top
        note, a tied note once), read from the tokens alone: `mgen eval` indexes every piece a
        run trained on with it to find copies (by interval, so transposed copies too).
        None (the default): unknown; mgen then writes the piece with `to_midi` and reads it."""
        del tokens
        return None

    # -- vocabulary ------------------------------------------------------------------------
    def fit(self, counts: Counter[str]) -> None:
        """Build the vocabulary from token counts of the training pieces."""
        self.vocab = Vocab.build(counts, self.config.min_count)

    def require_vocab(self) -> Vocab:
        if self.vocab is None:
            raise DataError("tokenizer has no vocabulary yet: fit it on data or load it from a run")
        return self.vocab

    def encode(self, tokens: Iterable[str]) -> list[int]:
        return self.require_vocab().encode(tokens)

    def decode(self, ids: Iterable[int]) -> list[str]:
        return self.require_vocab().decode(ids)

    # -- state -----------------------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        """Anything besides config and vocab that decoding needs (JSON-able)."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore what `extra_state` returned."""
        del state  # the base tokenizer keeps nothing extra

    def state_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "config": self.config.to_dict(),
            "vocab": self.require_vocab().tokens,
            "extra": self.extra_state(),
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> Tokenizer:
        try:
            tok = cls(cls.Config.from_dict(state["config"]))
            tok.vocab = Vocab(state["vocab"])
            tok.load_extra_state(state.get("extra", {}))
        except (KeyError, TypeError) as e:
            raise CheckpointError(f"tokenizer state is incomplete or malformed ({e})") from None
        return tok


def neutral_ids(tok: Tokenizer, vocab: Vocab) -> list[int]:
    """Ids of the tokens whose repetition writes a long note or rest (`loop_neutral`)."""
    return [i for i, t in enumerate(vocab.tokens) if tok.loop_neutral(t)]
