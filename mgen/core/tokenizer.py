"""The tokenizer contract: files of one format <-> pieces (token lists) <-> ids.

Tokenizers never import torch. The engine wraps every piece in `<start>` ... `<end>`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from mgen.core.config import Config
from mgen.core.errors import CheckpointError, DataError

PAD, START, END, UNK = "<pad>", "<start>", "<end>", "<unk>"
SPECIALS = (PAD, START, END, UNK)


class Vocab:
    """Token <-> id table. Ids 0..3 are always the special tokens, in SPECIALS order."""

    def __init__(self, tokens: Sequence[str]):
        extra = [t for t in tokens if t not in SPECIALS]
        self.tokens: list[str] = [*SPECIALS, *extra]
        self.index: dict[str, int] = {t: i for i, t in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            raise DataError("vocabulary has duplicate tokens")

    @classmethod
    def build(cls, counts: Mapping[str, int], min_count: int = 1) -> Vocab:
        kept = [t for t, c in counts.items() if c >= min_count and t not in SPECIALS]
        return cls(sorted(kept))

    pad_id, start_id, end_id, unk_id = 0, 1, 2, 3

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self.index

    def encode(self, tokens: Iterable[str]) -> list[int]:
        get = self.index.get
        return [get(t, self.unk_id) for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.tokens[i] for i in ids]


class Tokenizer(ABC):
    """One symbolic format. Subclasses set the class attributes and implement the abstract methods."""

    description: ClassVar[str] = ""
    #: Bump when `read` produces different tokens for the same file (invalidates caches).
    version: ClassVar[str] = "1"
    Config: ClassVar[type[Config]] = Config
    #: Glob patterns of the files this tokenizer reads, e.g. ("*.abc",).
    file_patterns: ClassVar[tuple[str, ...]] = ()
    #: Suffix of the native format written by `write`, e.g. ".abc".
    suffix: ClassVar[str] = ".txt"
    #: Default training length for this representation when the user gives none.
    default_epochs: ClassVar[int] = 5

    def __init__(self, config: Config | None = None):
        self.config = config if config is not None else type(self).Config()
        self.vocab: Vocab | None = None

    # -- format-specific -------------------------------------------------------------------
    @abstractmethod
    def read(self, path: Path) -> list[list[str]]:
        """Parse one file into pieces (no <start>/<end>). Raise DataError for unusable input."""

    @abstractmethod
    def write(self, tokens: list[str], path: Path) -> Path:
        """Write one piece in the native format at `path` (suffix added if missing)."""

    @abstractmethod
    def to_midi(self, tokens: list[str], path: Path) -> Path:
        """Write one piece as a .mid file. Raise DataError when it cannot be converted."""

    def default_files(self) -> list[Path]:
        """The embedded default dataset (materialized on first use if needed)."""
        raise DataError(f"{type(self).__name__} has no default dataset; pass --data")

    # -- vocabulary ------------------------------------------------------------------------
    def fit(self, counts: Counter[str]) -> None:
        """Build the vocabulary from token counts of the training pieces."""
        self.vocab = Vocab.build(counts, int(getattr(self.config, "min_count", 1)))

    def _require_vocab(self) -> Vocab:
        if self.vocab is None:
            raise DataError("tokenizer has no vocabulary yet: fit it on data or load it from a run")
        return self.vocab

    def encode(self, tokens: Iterable[str]) -> list[int]:
        return self._require_vocab().encode(tokens)

    def decode(self, ids: Iterable[int]) -> list[str]:
        return self._require_vocab().decode(ids)

    def parse_primer(self, text: str) -> list[str]:
        """Turn a user's primer text into tokens; default: whitespace-separated tokens."""
        return text.split()

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
            "vocab": self._require_vocab().tokens,
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
