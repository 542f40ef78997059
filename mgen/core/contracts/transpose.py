"""Transposition, an optional protocol: a tokenizer whose pieces can move to another key.

Training augmentation (`mgen.core.data.augment`) moves each training piece by a shift drawn from
`transpositions()` (per piece, from the seed and epoch alone), token by token with `transpose`;
validation is never moved. A tokenizer without these methods is never transposed.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Transposes(Protocol):
    def transpositions(self) -> tuple[int, ...]:
        """Semitone shifts training may move each piece by; (0,): none."""
        ...

    def transpose(self, token: str, semitones: int) -> str | None:
        """`token` moved by `semitones`; None when it cannot be (a pitch out of range): pieces
        holding it are not moved that far."""
        ...


def shifts(tok: object) -> tuple[int, ...]:
    """The shifts a tokenizer allows: (0,) for one that does not transpose."""
    return tok.transpositions() if isinstance(tok, Transposes) else (0,)


def move(tok: object, token: str, semitones: int) -> str | None:
    """`token` moved by `semitones` (unchanged for a tokenizer that does not transpose); a
    key control token (contracts.controls) names the moved key."""
    from mgen.core.contracts import controls

    if not isinstance(tok, Transposes):
        return token
    if controls.parse(token) is not None:
        return (controls.move(token, semitones) or token) if semitones else token
    return tok.transpose(token, semitones)
