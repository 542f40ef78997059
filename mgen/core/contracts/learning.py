"""Learning to read, an optional protocol: a tokenizer whose tokens depend on what it learned
from the training pieces (a BPE or Unigram vocabulary over base tokens: the miditok plugin).

A tokenizer opts in with `learn(pieces) -> bool`. The engine reads the corpus once with the
tokenizer as configured (base tokens), calls `learn` with the training split's pieces only (never
the validation pieces), and, when it returns True, reads the corpus again: `read` now gives the
learned tokens. What it learned is its extra state (contracts.state): saved in the run, given to
the parsing workers and part of the corpus cache's key, so every reader of a run's files, in any
process, gets the tokens the run trained on. Under DDP the main process's state is given to
every rank, so all train on one vocabulary (Unigram's training is not deterministic).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Learns(Protocol):
    def learn(self, pieces: list[list[str]]) -> bool:
        """Learn from the training pieces (as `read` gave them before); True when `read`
        now gives other tokens."""
        ...


def learns(tok: object) -> bool:
    return isinstance(tok, Learns)
