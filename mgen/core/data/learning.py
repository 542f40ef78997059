"""The corpus read again after a tokenizer learned from it (contracts.learning)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mgen.core.contracts.learning import learns
from mgen.core.contracts.state import extra_state, load_extra_state
from mgen.core.contracts.tokenizer import Tokenizer
from mgen.core.training.distributed import Dist


def learned(tok: Tokenizer, read: Callable[[], Any], dist: Dist | None, fit: bool = True) -> Any:
    """The split `read()` gives (prepare.Split); when `fit` and `tok` learns from its training
    pieces (never the validation ones) something that changes `read`, the split read again after
    it learned. Every rank takes the main process's state: one vocabulary for all."""
    split = read()
    if not fit or not learns(tok):
        return split
    changed = tok.learn([split.corpus.piece(int(i)) for i in split.train])  # type: ignore[attr-defined]
    if dist is not None and dist.active:
        load_extra_state(tok, dist.broadcast(extra_state(tok)))
        changed = dist.broadcast(changed)
    return read() if changed else split
