"""`mgen.core.tokenizer` as 0.1 plugins import it (through mgen.core.moved, with a warning).

Its `Tokenizer` is today's, plus the 0.1 base methods that did real work (`fit`,
`require_vocab`, `encode`, `decode`, `extra_state`, `parse_primer`, `cut_off`, `to_midi`), so a
0.1 plugin's `super().fit(counts)` still runs. Removed in the next release.
"""

from __future__ import annotations

from mgen.core.contracts.legacy import Defaults01
from mgen.core.contracts.tokenizer import END, PAD, SPECIALS, START, UNK, TokenizerConfig, Vocab
from mgen.core.contracts.tokenizer import Tokenizer as _Tokenizer

__all__ = ["END", "PAD", "SPECIALS", "START", "UNK", "Tokenizer", "TokenizerConfig", "Vocab"]


class Tokenizer(Defaults01, _Tokenizer):
    """One symbolic format, as the 0.1 contract described it (deprecated)."""
