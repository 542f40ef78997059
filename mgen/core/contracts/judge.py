"""Melody and note counting for the judge, an optional protocol: what a tokenizer can read from
its tokens alone, so that `mgen eval` and training need not write a piece as MIDI to know it.

- `melody(tokens)`: the top line of one piece as MIDI pitches, one per note onset (a chord by its
  top note, a tied note once). `mgen eval --run` indexes every training piece with it to find
  copies (by interval, so transposed copies too). Without it mgen writes the piece and reads the
  MIDI back (slower, same answer).
- `count_notes(tokens)`: the notes of one piece, so losses are also reported per note and
  compare across representations. Without it per-note figures are left out.

Either method may return None for a piece it cannot say anything about.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class HasMelody(Protocol):
    def melody(self, tokens: list[str]) -> list[int] | None: ...


@runtime_checkable
class CountsNotes(Protocol):
    def count_notes(self, tokens: list[str]) -> int | None: ...


def has_melody(tok: object) -> bool:
    """Whether the tokenizer reads melodies from its tokens (reports say which way was used)."""
    return isinstance(tok, HasMelody)


def melody(tok: object, tokens: list[str]) -> list[int] | None:
    """The piece's top line, or None when the tokenizer cannot read it from tokens."""
    return tok.melody(tokens) if isinstance(tok, HasMelody) else None


def count_notes(tok: object, tokens: list[str]) -> int | None:
    """Notes in the piece, or None when the tokenizer does not count them."""
    return tok.count_notes(tokens) if isinstance(tok, CountsNotes) else None
