"""The grammar hook: an optional protocol a tokenizer opts into, so that no sample it decodes
is broken.

A tokenizer that knows its format's grammar provides `grammar(vocab, num_samples)`, a
`Grammar`: the state of K samples at once (numpy arrays, one row a sample), the tokens allowed
next as a mask [K, V], advanced once per token. The sampling engine masks the model's logits
with it before any decoder sees them, so temperature, top-k and top-p renormalise over legal
tokens only, and `<end>` comes only where the piece may end. A tokenizer without the hook
samples exactly as before. Grammars use numpy, not torch: tokenizers never import torch.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from mgen.core.contracts.errors import ConfigError
from mgen.core.contracts.vocab import Vocab


class Grammar(ABC):
    """The tokens allowed next for K samples, from the tokens each has so far. A grammar may
    offer style rules on top (`RULES`: name -> what it refuses), added on request by
    `with_rule` (sampling's `rules`, `mgen sample --rule NAME`)."""

    RULES: ClassVar[dict[str, str]] = {}

    def __init__(self, vocab: Vocab, num_samples: int):
        self.vocab = vocab
        self.k = num_samples

    @abstractmethod
    def allowed(self) -> np.ndarray:
        """bool [K, V]: the tokens each sample may take next (`<end>` where it may end)."""

    @abstractmethod
    def advance(self, ids: np.ndarray) -> None:
        """Take the next token of each sample: ids [K]."""

    def with_rule(self, name: str) -> Grammar:
        """This grammar with the rule `name` added (a grammar that wraps it)."""
        raise ConfigError(f"rule {name!r}: {_known(self.RULES)}")

    def feed(self, tokens: Sequence[str]) -> None:
        """The primer, the same for every sample: advanced token by token."""
        for i in self.vocab.encode(tokens):
            self.advance(np.full(self.k, i))

    def accepts(self, tokens: Sequence[str], end: bool = True) -> int | None:
        """Where one piece first breaks the grammar (the index of the token), None if it never
        does (and, with `end`, may end after its last token). For tests and benchmarks."""
        for n, i in enumerate([*self.vocab.encode(tokens), *([self.vocab.end_id] * end)]):
            if not self.allowed()[0, i]:
                return n
            self.advance(np.full(self.k, i))
        return None


@runtime_checkable
class HasGrammar(Protocol):
    """What a tokenizer provides to opt in: its grammar for a batch of `num_samples`."""

    def grammar(self, vocab: Vocab, num_samples: int) -> Grammar | None: ...


def grammar_of(tokenizer: object, vocab: Vocab, num_samples: int) -> Grammar | None:
    """The tokenizer's grammar for this batch, or None when it has none."""
    if not isinstance(tokenizer, HasGrammar):
        return None
    return tokenizer.grammar(vocab, num_samples)


def _known(rules: dict[str, str]) -> str:
    if not rules:
        return "this tokenizer's grammar has no rules"
    return "the rules known: " + "; ".join(f"{k} ({v})" for k, v in sorted(rules.items()))


def with_rules(grammar: Grammar | None, rules: Sequence[str]) -> Grammar | None:
    """`grammar` with each of `rules` added; a rule it does not know is a ConfigError listing
    those it does. No rules: `grammar` as it is; a rule named twice is added once."""
    for name in dict.fromkeys(rules):
        if grammar is None:
            raise ConfigError(f"rule {name!r}: this tokenizer has no grammar, so no rules")
        if name not in grammar.RULES:
            raise ConfigError(f"rule {name!r} is not known; {_known(grammar.RULES)}")
        grammar = grammar.with_rule(name)
    return grammar


class KindGrammar(Grammar):
    """A grammar where what may come next depends on the kind of the last token: each token
    has a kind (`kinds`: token -> kind name; a token without one is never allowed), `follows`
    says which kinds may follow each kind ("" for the start) and `may_end` after which kinds
    the piece may end. Subclasses refine the mask (e.g. ascending pitches within a chord)."""

    def __init__(
        self,
        vocab: Vocab,
        num_samples: int,
        kinds: dict[str, str],
        follows: dict[str, set[str]],
        may_end: set[str],
    ):
        super().__init__(vocab, num_samples)
        names = sorted(set(kinds.values()) | set(follows) - {""})
        self.code = code = {name: i for i, name in enumerate(names)}
        self.end, self.begin = len(names), len(names) + 1  # two more states: ended, nothing yet
        self.kind = np.array([code[kinds[t]] if t in kinds else -1 for t in vocab.tokens])
        self.kind[vocab.end_id] = self.end
        table = np.zeros((len(names) + 2, len(vocab)), dtype=bool)  # [state, token]
        for before, after in follows.items():
            row = self.begin if before == "" else code[before]
            table[row] = np.isin(self.kind, [code[a] for a in after])
            table[row, vocab.end_id] = before in may_end
        table[self.end, vocab.end_id] = True  # an ended sample only repeats <end>
        self.table = table
        self.state = np.full(num_samples, self.begin)  # [K]: the last token's kind

    def allowed(self) -> np.ndarray:
        return self.table[self.state]  # [K, V]: a fresh array (fancy indexing copies)

    def advance(self, ids: np.ndarray) -> None:
        kind = self.kind[ids]
        self.state = np.where(kind >= 0, kind, self.state)
