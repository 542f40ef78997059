"""Notes from tokens, an optional protocol: what streaming (`mgen sample --stream`, the web page
as it fills) reads of a piece while it is still being sampled.

A tokenizer opts in with `score(tokens) -> Score`: the notes of the piece so far, in memory,
as its `write` would write them (midi-notes, midi-tracks, kern: the same decoding `write`
does; abc-char: its own ABC reader). Streaming calls it every few tokens, so it must be cheap:
a pass over the tokens, no file, no music21. Without it the piece is written to a temporary
file and read back with its format (`piece_score`): the same notes, slower.

Streaming takes a note as final once the piece has a later onset than the note's end (no later
token can lengthen, cut or tie it), so `score` must read any prefix of a piece: a half-written
note is dropped or kept short, never an error.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Protocol, runtime_checkable

from mgen.core.contracts.errors import MgenError
from mgen.formats.score import Score


@runtime_checkable
class HasScore(Protocol):
    def score(self, tokens: list[str]) -> Score: ...


def has_score(tok: object) -> bool:
    """Whether the tokenizer reads notes from its tokens in memory (streaming is then cheap)."""
    return isinstance(tok, HasScore)


def piece_score(tok: object, tokens: list[str]) -> Score:
    """The notes of one piece (its tokens without controls): the tokenizer's `score`, else its
    native file written and read back by its format; an empty Score when nothing is readable."""
    if isinstance(tok, HasScore):
        return tok.score(tokens)
    return _written(tok, tokens)


def _written(tok: object, tokens: list[str]) -> Score:
    """The piece through its native file: written, then read by the tokenizer's format (its
    own notes, else its MIDI conversion)."""
    from mgen.core.contracts.tokenizer import Tokenizer, to_midi
    from mgen.formats.midi.notes import midi_piece

    if not isinstance(tok, Tokenizer) or not tokens:
        return Score("")
    with tempfile.TemporaryDirectory(prefix="mgen-live-") as tmp:
        try:
            native = tok.write(tokens, Path(tmp) / "piece")
            pieces = tok.format.read_notes(native)
            if pieces is None:
                pieces = [midi_piece(to_midi(tok, tokens, Path(tmp) / "midi.mid", native))]
        except MgenError:
            return Score("")  # not a writable piece yet (no note so far)
    return pieces[0] if pieces else Score("")
