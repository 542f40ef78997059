"""Building a tokenizer's vocabulary, and the `fit` hook, an optional protocol.

The engine builds `tok.vocab` from the token counts of the training pieces (`Vocab.build` with
the config's `min_count`), then calls the tokenizer's `fit(counts)` if it has one: for what it
learns from the counts besides (the MIDI tokenizers: the median tempo, kept as extra state), or
to replace the vocabulary (midi-notes: every token its settings allow, whatever the counts).
Control tokens seen (contracts.controls) and infill sentinels (contracts.infill) are always
kept. Tokens become ids through `tok.vocab` (`require_vocab(tok).encode(tokens)`).
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol, runtime_checkable

from mgen.core.contracts.errors import DataError
from mgen.core.contracts.vocab import Vocab


@runtime_checkable
class Fits(Protocol):
    def fit(self, counts: Counter[str]) -> None: ...


def build_vocab(tok, counts: Counter[str]) -> Vocab:
    """Fit `tok` on the training pieces' token counts; -> its vocabulary."""
    from mgen.core.contracts.controls import parse
    from mgen.core.contracts.infill import SENTINELS

    tok.vocab = Vocab.build(counts, tok.config.min_count)
    if isinstance(tok, Fits):
        tok.fit(counts)
    vocab = require_vocab(tok)
    kept = [t for t in counts if parse(t) is not None or t in SENTINELS]
    lacking = sorted(t for t in kept if t not in vocab)
    if lacking:  # a vocabulary the tokenizer fixed itself still takes control and infill tokens
        tok.vocab = Vocab([*vocab.tokens, *lacking])
    return require_vocab(tok)


def require_vocab(tok) -> Vocab:
    """The tokenizer's vocabulary; DataError when it has none yet."""
    if tok.vocab is None:
        raise DataError("tokenizer has no vocabulary yet: fit it on data or load it from a run")
    return tok.vocab
