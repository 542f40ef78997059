"""Loop-neutral tokens, an optional protocol: tokens whose repetition is how a format writes a
long note or rest (a hold, a rest, a time shift), so argmax's loop guards must leave them alone.

A tokenizer opts in with `loop_neutral(token) -> bool`; without it every token is guarded.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from mgen.core.contracts.vocab import Vocab


@runtime_checkable
class LoopNeutral(Protocol):
    def loop_neutral(self, token: str) -> bool: ...


def loop_neutral(tok: object, token: str) -> bool:
    """Whether repeating `token` is music rather than a loop (False for a tokenizer that does
    not say)."""
    return bool(tok.loop_neutral(token)) if isinstance(tok, LoopNeutral) else False


def neutral_ids(tok: object, vocab: Vocab) -> list[int]:
    """Ids of the tokens whose repetition writes a long note or rest."""
    if not isinstance(tok, LoopNeutral):
        return []
    return [i for i, t in enumerate(vocab.tokens) if tok.loop_neutral(t)]
