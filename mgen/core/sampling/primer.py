"""A user's primer (text, a file in the tokenizer's format, or an uploaded file) as tokens to
continue, checked against the vocabulary in one place (`require_known`).

Three callers word the same refusal for their readers: `mgen sample` and the Python API speak
of the tokenizer (UNKNOWN), the web page of the model (UNKNOWN_TO_MODEL), an upload of the file
(UNKNOWN_IN_UPLOAD, a DataError: the file, not a setting, is at fault).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mgen.core.contracts.errors import ConfigError, DataError, MgenError, one_line
from mgen.core.contracts.primer import parse_primer
from mgen.core.contracts.tokenizer import Tokenizer
from mgen.core.contracts.vocabulary import require_vocab

MAX_PATH = 4096  # longer primers are text, never a file name
UNKNOWN = "primer has symbols this tokenizer does not know"
UNKNOWN_TO_MODEL = "primer has symbols this model does not know"
UNKNOWN_IN_UPLOAD = "upload: symbols this model does not know"


def require_known(
    tok: Tokenizer, tokens: list[str], message: str = UNKNOWN, error: type[MgenError] = ConfigError
) -> list[str]:
    """`tokens`, when the vocabulary holds each of them; else `error` naming those it lacks
    (the vocabulary would read them as <unk>, which the user never meant)."""
    vocab = require_vocab(tok)
    unknown = sorted({t for t in tokens if t not in vocab})
    if unknown:
        shown = " ".join(repr(t) for t in unknown)  # repr: a newline token stays on one line
        raise error(f"{message}: {shown[:200]}")
    return tokens


def primer_tokens(
    tok: Tokenizer, primer: str | None, *, files: bool = True, message: str = UNKNOWN
) -> list[str]:
    """Tokens of `primer`: with `files`, the first piece of a file it names, else its text as
    the tokenizer parses primers (a web client's text is never taken for a file name).
    Symbols outside the vocabulary are an error naming them."""
    if not primer:
        return []
    tokens = _tokens(tok, primer) if files else parse_primer(tok, primer)
    return require_known(tok, tokens, message)


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


def primer_text(tok: Tokenizer, tokens: list[str]) -> str | None:
    """A text that the tokenizer parses back into exactly `tokens` (what "continue this" and
    an uploaded primer put in the primer box); None when no simple joining does."""
    for joined in ("".join(tokens), " ".join(tokens)):
        try:
            if parse_primer(tok, joined) == tokens:
                return joined
        except MgenError:
            continue
    return None


@dataclass(frozen=True)
class PrimerText:
    """An uploaded file as primer text: the text, the tokens it keeps of how many, and a note
    when it had to be cut to the primer limit."""

    primer: str
    tokens: int
    of: int
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {"primer": self.primer, "tokens": self.tokens, "of": self.of, "note": self.note}


def upload_primer(tok: Tokenizer, suffix: str, data: bytes, max_chars: int) -> PrimerText:
    """The first piece of an uploaded file (of a type `tok` reads) as primer text of at most
    `max_chars` characters."""
    return fit_primer(tok, read_upload(tok, suffix, data), max_chars)


def read_upload(tok: Tokenizer, suffix: str, data: bytes) -> list[str]:
    """The first piece of an uploaded file, read by the model's tokenizer."""
    with tempfile.TemporaryDirectory(prefix="mgen-upload-") as tmp:
        path = Path(tmp) / f"primer{suffix}"
        path.write_bytes(data)
        try:
            pieces = tok.read(path)
        except Exception as e:  # noqa: BLE001 - a malformed file may fail in any way
            raise DataError(f"upload: cannot read this file: {one_line(e, 200)}") from None
    if not pieces or not pieces[0]:
        raise DataError("upload: the file holds no music this model reads")
    return pieces[0]


def fit_primer(tok: Tokenizer, tokens: list[str], max_chars: int) -> PrimerText:
    """The longest start of `tokens` whose primer text fits `max_chars`."""
    require_known(tok, tokens, UNKNOWN_IN_UPLOAD, DataError)
    total, keep = len(tokens), len(tokens)
    text = primer_text(tok, tokens)
    while text is not None and len(text) > max_chars and keep > 1:
        keep = max(1, keep * max_chars // (len(text) + 1))
        text = primer_text(tok, tokens[:keep])
    if text is None:
        raise DataError("upload: this model's tokens cannot be written as primer text")
    note = "" if keep == total else f"the first {keep} of its {total} tokens (primer limit)"
    return PrimerText(text, keep, total, note)
