"""The grammar of `abc-char` (the optional grammar hook, mgen.core.contracts.grammar): every
sample is a tune the strict judge (`mgen eval`, mgen.formats.abc.check) accepts, character by
character.

header:  T: first, then T:, R:, P:, M:, L:, Q:, K: lines (T:, M: and K: required; each at
         most once but T:), free text or a value every reader takes (abc_grammar_values)
body:    every character part of an ABC 2.1 token as the judge's lexer reads it: notes,
         rests, chords, bar lines, tuplets, broken rhythm, ties, grace notes, chord symbols,
         decorations, K:/L:/M: field lines and inline fields
bars:    counted from L:, M: and inline fields, tuplets and broken rhythm included: no note
         overfills a bar; a bar line only where the bar is full, or where the judge lets a bar
         be short (the first, the last, beside repeats, endings and double bar lines, after a
         phrase's line end, two that make one); a rest may run past the bar only at a phrase
         end (Essen's habit)
ties:    only to a note of the same pitch (a tied rest to a rest)
repeats: `|:` closed by `:|`, a first ending by `:|` and a second ending
ending:  `<end>` only after a bar line, or after a complete last bar in a tune whose lines
         end without bar lines (Essen's style, which the judge reads as a bar line)

Each sample's state is a small Python object stepped once per character (abc_grammar_state,
abc_grammar_body, abc_grammar_tokens); its mask is a bitmask over the vocabulary, and each
distinct mask is one row of a table kept per vocabulary.
"""

from __future__ import annotations

import numpy as np

from mgen.core.contracts.grammar import Grammar
from mgen.core.contracts.vocab import Vocab
from mgen.plugins.tokenizers import abc_grammar_body as body
from mgen.plugins.tokenizers import abc_grammar_state as st
from mgen.plugins.tokenizers import abc_grammar_tokens as tokens
from mgen.plugins.tokenizers import abc_grammar_values as values
from mgen.plugins.tokenizers.abc_grammar_state import B_TOKEN, ENDED, FREE, Tune

FIELD_LETTERS = "".join(values.MOST)


class Chars:
    """The vocabulary as bits: a character's bit is 1 << its id; the masks' table."""

    def __init__(self, vocab: Vocab):
        self.index = {t: i for i, t in enumerate(vocab.tokens) if len(t) == 1}
        self.END, self.size = 1 << vocab.end_id, len(vocab)
        self.ALL = sum(1 << i for i in self.index.values()) | self.END
        self.free_text = values.free_text_chars(list(self.index))
        self._bits: dict[str, int] = {}
        self.cache: dict[tuple, int] = {}  # the bits between tokens, by what decides them
        self.notes: dict[tuple, int] = {}  # the bits inside a note, likewise
        self.rests: dict[tuple, int] = {}  # and inside a rest
        self.rows: dict[int, int] = {}
        self.table = np.zeros((256, self.size), dtype=bool)

    def b(self, chars: str) -> int:
        found = self._bits.get(chars)
        if found is None:
            found = sum(1 << self.index[c] for c in set(chars) if c in self.index)
            self._bits[chars] = found
        return found

    def row(self, bits: int) -> int:
        """The table row of a mask (added the first time it is seen)."""
        found = self.rows.get(bits)
        if found is None:
            found = len(self.rows)
            if found == len(self.table):
                self.table = np.concatenate([self.table, np.zeros_like(self.table)])
            raw = np.frombuffer(bits.to_bytes((self.size + 7) // 8, "little"), dtype=np.uint8)
            self.table[found] = np.unpackbits(raw, bitorder="little")[: self.size].astype(bool)
            self.rows[bits] = found
        return found


# -- the header -------------------------------------------------------------------------------


def _may_come(s: Tune, field: str) -> bool:
    return s.seen.count(field) < values.MOST[field]


def hline_bits(s: Tune, ch: Chars) -> int:
    """A field's letter (T: first), or, once T:, M: and K: are there, the body's first line
    (a field's letter then a field, or a decoration letter: `T` a trill)."""
    if not s.seen:
        return ch.b("T")
    b = ch.b("".join(f for f in FIELD_LETTERS if _may_come(s, f)))
    if s.header_done():
        b |= _body(s, ch, "") & ~ch.b(FIELD_LETTERS)
        b |= ch.b("".join(m for m in _MARK_FIELDS if _body(s, ch, m)))
    return b


_MARK_FIELDS = "".join(f for f in FIELD_LETTERS if f in body.MARKS)


def _body(s: Tune, ch: Chars, mark: str) -> int:
    """What the body's first line may start with (after a decoration letter `mark`)."""
    c = s.clone()
    _start(c, mark)
    return body.token_bits(c, ch)


def _start(s: Tune, mark: str) -> None:
    s.start_body()
    s.mode = B_TOKEN
    if mark:
        step(s, mark)


def hline_step(s: Tune, c: str) -> None:
    if c in FIELD_LETTERS:
        s.mode, s.field = st.H_NAME, c
    else:
        _start(s, "")
        step(s, c)


def hname_bits(s: Tune, ch: Chars) -> int:
    """`:` for a field; a letter that may also be a decoration may start the body instead."""
    b = ch.b(":") if _may_come(s, s.field) else 0
    if s.field in _MARK_FIELDS and s.header_done():
        b |= _body(s, ch, s.field) & ~ch.b(":")  # `:` makes it a field of the header
    return b


def hname_step(s: Tune, c: str) -> None:
    if c != ":":
        _start(s, s.field)
        step(s, c)
        return
    s.mode = st.H_TEXT if s.field in values.FREE_TEXT else st.H_VALUE
    s.value, s.count = "", 0


def htext_bits(s: Tune, ch: Chars) -> int:
    b = ch.b(ch.free_text) if s.count < values.TEXT_CAP else 0
    b |= ch.b("\n") if s.count or s.field != "T" else 0
    if s.field == "R" and values.hornpipe(s.value + "e") and not values.hornpipe(s.value):
        h = dict(s.header)  # a hornpipe only where its meter (written or asked) is one (abc2midi)
        meter = h.get("M", h.get(ASKED + "M"))
        if meter is not None and not values.hornpipe_meter(meter):
            b &= ~ch.b("e")
    return b


def htext_step(s: Tune, c: str) -> None:
    if c == "\n":
        if s.field == "R" and values.hornpipe(s.value):  # its meter must be 2/4 or 4/4
            s.header = (*s.header, ("R", "hornpipe"))
        s.mode, s.seen, s.count = st.H_LINE, s.seen + s.field, 0
    else:
        s.count += 1
        s.value += c if s.field == "R" else ""


#: The header's entries for what sampling asked: (ASKED + "K", "D minor"), (ASKED + "M", "6/8").
ASKED = "="


def hvalue_bits(s: Tune, ch: Chars) -> int:
    h = dict(s.header)
    hornpipe = s.field == "M" and ("R", "hornpipe") in s.header
    trie = values.value_trie(s.field, h.get(ASKED + s.field), hornpipe)
    return ch.b(trie.next.get(s.value, "")) | (ch.b("\n") if s.value in trie.whole else 0)


def hvalue_step(s: Tune, c: str) -> None:
    if c == "\n":
        s.header = (*s.header, (s.field, s.value))
        s.mode, s.seen = st.H_LINE, s.seen + s.field
    else:
        s.value += c


def _colon(s: Tune, ch: Chars) -> int:
    return ch.b(":")


def _newline(s: Tune, ch: Chars) -> int:
    return ch.b("\n")


def _ended(s: Tune, ch: Chars) -> int:
    return ch.END


def _free(s: Tune, ch: Chars) -> int:
    return ch.ALL


def _stay(s: Tune, c: str) -> None:
    pass


#: Each mode's (mask, step).
MODES = {
    st.H_LINE: (hline_bits, hline_step), st.H_NAME: (hname_bits, hname_step),
    st.H_TEXT: (htext_bits, htext_step), st.H_VALUE: (hvalue_bits, hvalue_step),
    B_TOKEN: (body.token_bits, body.token_step), st.B_NOTE: (tokens.note_bits, tokens.note_step),
    st.B_REST: (tokens.rest_bits, tokens.rest_step),
    st.B_CHORD: (tokens.chord_bits, tokens.chord_step),
    st.B_GRACE: (tokens.grace_bits, tokens.grace_step),
    st.B_QUOTE: (tokens.quote_bits, tokens.quote_step),
    st.B_DECO: (tokens.deco_bits, tokens.deco_step), st.B_BAR: (tokens.bar_bits, tokens.bar_step),
    st.B_BRACKET: (tokens.bracket_bits, tokens.bracket_step),
    st.B_OPEN: (tokens.open_bits, tokens.open_step),
    st.B_TUPLET: (tokens.tuplet_bits, tokens.tuplet_step),
    st.B_BROKEN: (tokens.broken_bits, tokens.broken_step),
    st.B_CONT: (_newline, tokens.cont_step), st.B_NAME: (tokens.name_bits, tokens.name_step),
    st.B_VALUE: (tokens.value_bits, tokens.value_step), ENDED: (_ended, _stay),
    FREE: (_free, _stay),
}  # fmt: skip


def bits(s: Tune, ch: Chars) -> int:
    """What a sample in state `s` may take next."""
    return MODES[s.mode][0](s, ch)


def step(s: Tune, c: str) -> None:
    """One character (the body counts the line's characters: a field line is a letter and
    `:` at a line's start)."""
    if B_TOKEN <= s.mode < ENDED and c != "\n":
        s.lead = (c if c.isalpha() else "") if s.line == 0 else ""
        s.line, s.blank = min(s.line + 1, 2), s.blank and c in body.SPACE
    MODES[s.mode][1](s, c)
    if s.mode == B_TOKEN:
        s.between()


class AbcGrammar(Grammar):
    """K abc-char samples, each a `Tune` stepped in place per character (see the module
    docstring); masks come from caches keyed by what decides them, shared by every batch of
    the process with this vocabulary."""

    def __init__(self, vocab: Vocab, num_samples: int):
        super().__init__(vocab, num_samples)
        self.chars = _shared(vocab)
        self.tunes = [Tune() for _ in range(num_samples)]
        self.char = [t if t in self.chars.index else None for t in vocab.tokens]
        self.bits: list[int | None] = [None] * num_samples  # each sample's mask, once known

    def ask(self, sample: int, name: str, value: str) -> None:
        """Sampling asked for a key or meter (contracts.controls.Asks): the tune's K: or M:
        field is written with it."""
        field = {"key": "K", "meter": "M"}.get(name)
        if field is not None:
            s = self.tunes[sample]
            s.header = (*s.header, (ASKED + field, value))
            self.bits[sample] = None

    def _bits(self, i: int) -> int:
        found = self.bits[i]
        if found is None:
            found = self.bits[i] = bits(self.tunes[i], self.chars)
        return found

    def allowed(self) -> np.ndarray:
        ch, found = self.chars, self.bits
        for i, b in enumerate(found):
            if b is None:
                found[i] = bits(self.tunes[i], ch)
        rows = [ch.row(b) for b in found]  # may grow the table: before indexing it
        return ch.table[rows]  # [K, V]: a fresh array

    def advance(self, ids: np.ndarray) -> None:
        end = self.vocab.end_id
        for i, token_id in enumerate(ids.tolist()):
            s = self.tunes[i]
            if not (self._bits(i) >> token_id) & 1:
                s.mode = FREE  # a primer that breaks the grammar: the sample goes on unguarded
            elif token_id == end:
                s.mode = ENDED
            elif s.mode != FREE:
                step(s, self.char[token_id])  # type: ignore[arg-type]
            self.bits[i] = None


_CHARS: dict[tuple[str, ...], Chars] = {}


def _shared(vocab: Vocab) -> Chars:
    """One `Chars` per vocabulary in this process: its table of masks is built once."""
    key = tuple(vocab.tokens)
    if key not in _CHARS:
        if len(_CHARS) >= 8:
            _CHARS.clear()
        _CHARS[key] = Chars(vocab)
    return _CHARS[key]
