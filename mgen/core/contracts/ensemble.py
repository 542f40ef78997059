"""Choosing the ensemble, an optional protocol: a tokenizer whose pieces open by naming their
instruments or voices lets sampling choose them (`mgen sample --instruments "violin,viola"`).

A tokenizer opts in with `with_ensemble(instruments, tokens) -> tokens`: the primer `tokens`
preceded by what names the ensemble `instruments` (names or numbers, as the tokenizer knows
them; it raises ConfigError naming the ones it knows for any other). Its grammar (contracts.
grammar), fed that primer, then lets samples write only those tracks. A tokenizer without the
method cannot be given instruments: `with_ensemble` here says so, naming those that can.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from mgen.core.contracts.errors import ConfigError


@runtime_checkable
class ChoosesEnsemble(Protocol):
    def with_ensemble(self, instruments: Sequence[str], tokens: list[str]) -> list[str]: ...


def instrument_list(spec: str | Sequence[str] | None) -> list[str]:
    """ "violin, viola,cello" (or a list) as names, blanks dropped; [] for none."""
    if spec is None:
        return []
    parts = spec.split(",") if isinstance(spec, str) else [str(p) for p in spec]
    return [p.strip() for p in parts if p.strip()]


def with_ensemble(tok: object, name: str, instruments: Sequence[str], tokens: list[str]):
    """`tokens` opened by the ensemble `instruments` (none: `tokens` as they are); ConfigError
    for a tokenizer (registered as `name`) that cannot choose its instruments."""
    if not instruments:
        return tokens
    if not isinstance(tok, ChoosesEnsemble):
        able = ", ".join(choosing()) or "none installed"
        raise ConfigError(
            f"--instruments: the {name} tokenizer does not name its instruments, so they cannot "
            f"be chosen; tokenizers that can: {able}"
        )
    return tok.with_ensemble(list(instruments), list(tokens))


def choosing() -> list[str]:
    """The installed tokenizers that can choose their ensemble."""
    from mgen.core.contracts import registry

    return registry.names_with("tokenizer", "with_ensemble")
