"""Extra state, an optional protocol: what a tokenizer learns besides its config and vocabulary
and needs again to decode (the MIDI tokenizers: the training pieces' median tempo).

A tokenizer opts in with `extra_state() -> dict` (JSON-able) and `load_extra_state(dict)`; the
base `state_dict` saves it under "extra" in tokenizer.json and `from_state_dict` restores it.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class KeepsState(Protocol):
    def extra_state(self) -> dict[str, Any]: ...

    def load_extra_state(self, state: dict[str, Any]) -> None: ...


def extra_state(tok: object) -> dict[str, Any]:
    return tok.extra_state() if isinstance(tok, KeepsState) else {}


def load_extra_state(tok: object, state: dict[str, Any]) -> None:
    if isinstance(tok, KeepsState):
        tok.load_extra_state(state)
