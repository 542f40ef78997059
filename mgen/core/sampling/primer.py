"""A user's primer (text, or a file in the tokenizer's format) as tokens to continue."""

from __future__ import annotations

from pathlib import Path

from mgen.core.contracts.errors import ConfigError, MgenError
from mgen.core.contracts.primer import parse_primer
from mgen.core.contracts.tokenizer import Tokenizer
from mgen.core.contracts.vocabulary import require_vocab

MAX_PATH = 4096  # longer primers are text, never a file name


def primer_tokens(tok: Tokenizer, primer: str | None) -> list[str]:
    """Tokens of `primer`: the first piece of a file it names, else its text as the tokenizer
    parses primers. Symbols outside the vocabulary are an error naming them."""
    if not primer:
        return []
    tokens = _tokens(tok, primer)
    vocab = require_vocab(tok)
    unknown = sorted({t for t in tokens if t not in vocab})
    if unknown:
        shown = " ".join(repr(t) for t in unknown)  # repr: a newline token stays on one line
        raise ConfigError(f"primer has symbols this tokenizer does not know: {shown[:200]}")
    return tokens


def _tokens(tok: Tokenizer, primer: str) -> list[str]:
    path = Path(primer)
    if len(primer) < MAX_PATH and path.is_file():
        try:
            pieces = tok.read(path)
        except MgenError:
            pieces = []
        if pieces:
            return pieces[0]
        return parse_primer(tok, path.read_text(encoding="utf-8", errors="replace"))
    return parse_primer(tok, primer)
