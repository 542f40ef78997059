"""Cut-off pieces, an optional protocol: what to write of a generated piece that reached the
length limit (`-n`) before its `<end>`.

A tokenizer opts in with `cut_off(tokens) -> tokens` (abc-char: up to its last bar line, since
the characters after it are a bar cut in the middle); without it the whole piece is written.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class CutsOff(Protocol):
    def cut_off(self, tokens: list[str]) -> list[str]: ...


def cut_off(tok: object, tokens: list[str]) -> list[str]:
    """The part of an unfinished piece worth writing (all of it by default)."""
    return tok.cut_off(tokens) if isinstance(tok, CutsOff) else tokens
