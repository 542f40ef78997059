"""Infilling, an optional protocol: where a piece's bars (or beats) begin, so a span of them can
be regenerated between what comes before and after it (fill-in-the-middle).

A tokenizer opts in with `spans(tokens) -> [(unit, offset), ...]`: each unit's number (bars or
beats from 1, as `span_unit` names them) and the token offset where it begins, ascending, and
last the unit after the last with the offset where the last one ends (abc-char: bars after the
header; kern: 4/4 bars as its writer writes them; midi-notes, midi-chords: beats). Training
with `--infill` (mgen.core.data.infill) rewrites a share of the pieces as

    <start> <suffix> SUFFIX <prefix> PREFIX <middle> MIDDLE <end>

so the model learns the middle given both sides; sampling (`mgen sample --infill FILE --bars
A-B`) opens with everything up to `<middle>` and generates until `<end>`. A tokenizer may also
define `join(prefix, middle, suffix, old)` to put a piece back together (the MIDI tokenizers: the
suffix keeps its time whatever the middle's length); otherwise the three are concatenated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from mgen.core.contracts.controls import parse
from mgen.core.contracts.errors import ConfigError
from mgen.core.contracts.grammar import Grammar
from mgen.core.contracts.vocab import Vocab

SUFFIX, PREFIX, MIDDLE = "<suffix>", "<prefix>", "<middle>"
SENTINELS = (SUFFIX, PREFIX, MIDDLE)


@runtime_checkable
class HasSpans(Protocol):
    def spans(self, tokens: list[str]) -> list[tuple[int, int]]: ...


def has_spans(tok: object) -> bool:
    return isinstance(tok, HasSpans)


def unit(tok: object) -> str:
    """What a tokenizer's spans count: "bar" or "beat"."""
    return str(getattr(tok, "span_unit", "bar"))


def trained(vocab: Vocab) -> bool:
    """Whether a run's vocabulary has the sentinels: it was trained with --infill."""
    return all(s in vocab for s in SENTINELS)


def layout(prefix: Sequence[str], middle: Sequence[str], suffix: Sequence[str]) -> list[str]:
    """One piece in fill-in-the-middle order (the engine adds <start> and <end>)."""
    return [SUFFIX, *suffix, PREFIX, *prefix, MIDDLE, *middle]


def parse_span(text: str, name: str = "--bars") -> tuple[int, int]:
    """ "5-8" (or "5") -> (5, 8); ConfigError, naming the setting `name`, for anything else."""
    a, _, b = str(text).strip().partition("-")
    try:
        first, last = int(a), int(b or a)
    except ValueError:
        raise ConfigError(f"{name}: {text!r} is not a span such as 5-8") from None
    if first < 1 or last < first:
        raise ConfigError(f"{name}: {text!r}: the span must be A-B with 1 <= A <= B")
    return first, last


def cut(tok: object, tokens: list[str], first: int, last: int) -> tuple[list[str], ...]:
    """(prefix, middle, suffix) of `tokens`: the middle units `first`..`last`; ConfigError for
    a tokenizer without spans or a span outside the piece."""
    if not has_spans(tok):
        raise ConfigError(f"{type(tok).__name__} cannot say where its bars begin: no infilling")
    where = dict(reversed(tok.spans(tokens)))  # type: ignore[attr-defined]  # first offset
    units = sorted(where)
    if not units or first not in where or last + 1 not in where:
        have = f"1-{units[-1] - 1}" if units else "none"
        raise ConfigError(f"{unit(tok)}s {first}-{last} are outside the piece: its "
                          f"{unit(tok)}s are {have}")  # fmt: skip
    a, b = where[first], where[last + 1]
    return tokens[:a], tokens[a:b], tokens[b:]


def join(tok: object, parts: tuple[list[str], ...], middle: list[str]) -> list[str]:
    """A piece cut in `parts` (prefix, old middle, suffix) put back together with a new
    `middle`: the tokenizer's `join(prefix, middle, suffix, old)` where it has one."""
    prefix, old, suffix = parts
    own = getattr(tok, "join", None)
    return own(prefix, middle, suffix, old) if callable(own) else [*prefix, *middle, *suffix]


class InfillGrammar(Grammar):
    """A tokenizer's grammar for the middle: fed the prefix alone (the suffix and the
    sentinels pass it by), it constrains the middle as it would a continuation, and `<end>`
    (the middle's end) is allowed at every step: whether the middle joins the suffix is
    checked after, by the format's checker, never assumed."""

    def __init__(self, inner: Grammar, vocab: Vocab):
        super().__init__(vocab, inner.k)
        self.inner = inner
        # [V]: the sentinels and control tokens, never part of a middle
        self.sentinel = np.array([t in SENTINELS or parse(t) is not None for t in vocab.tokens])

    def feed(self, tokens: Sequence[str]) -> None:
        tokens = list(tokens)
        if PREFIX in tokens and MIDDLE in tokens:
            tokens = tokens[tokens.index(PREFIX) + 1 : tokens.index(MIDDLE)]
        self.inner.feed(tokens)

    def allowed(self) -> np.ndarray:
        out = self.inner.allowed() & ~self.sentinel[None, :]
        out[:, self.vocab.end_id] = True
        return out

    def advance(self, ids: np.ndarray) -> None:
        self.inner.advance(ids)
