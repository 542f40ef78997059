"""Body tokens in progress in the abc-char grammar (notes, rests, chords, grace notes, quotes,
decorations, bar lines, tuplets, broken rhythm, fields): per mode the characters allowed next
(`*_bits`) and the step one takes (`*_step`), as in `abc_grammar_body`. A token goes on while
the next character can extend it (as the judge's greedy lexer), else the next one starts."""

from __future__ import annotations

from mgen.plugins.tokenizers import abc_grammar_time as tm
from mgen.plugins.tokenizers import abc_grammar_values as values
from mgen.plugins.tokenizers.abc_grammar_body import (
    ALL_SPELLINGS,
    CHORD_NOTES,
    DECO_CAP,
    GRACE_NOTES,
    NOTE_START,
    QUOTE_CAP,
    SOUP,
    Chars,
    _bar_options,
    _field_possible,
    _then,
    _tuplet_digits,
    cached,
    chord_spellings,
    mark_after,
    quoted_chars,
    sound,
    spellings,
    token_key,
    token_step,
)  # fmt: skip
from mgen.plugins.tokenizers.abc_grammar_state import (
    B_BAR,
    B_BRACKET,
    B_CHORD,
    B_NAME,
    B_TOKEN,
    B_TUPLET,
    B_VALUE,
    NO_CHORD,
    REST_TIE,
    Tune,
)  # fmt: skip

# -- notes, rests, chords, grace notes --------------------------------------------------------


def note_bits(s: Tune, ch: Chars) -> int:
    """Cached by what decides it: the state between tokens, the note so far, key, bar."""
    tied = s.tied or (s.tie is not None and s.tie >= 0)  # the key and bar matter for a tie
    key = (s.t, s.owe, s.meter_t, s.unit, s.broken, s.tup, s.over, s.tie, s.rep,
           s.bars, s.bar0, s.essen, s.line, s.lead != "", s.tok, s.length, s.tied, s.prev, s.opening,
           s.key if tied else (), s.bar_acc if tied else ())  # fmt: skip
    return cached(ch.notes, key, lambda: _note_bits(s, ch))


def _note_bits(s: Tune, ch: Chars) -> int:
    trie = spellings(s)  # with a tie to come, only the tied pitch's spellings
    b = ch.b(trie.next.get(s.tok, "")) if not s.length and not s.tied else 0
    if s.tok not in trie.whole:
        return b
    if s.tied:
        return b | _then(s, finish_note, ch)
    nxt, whole = tm.length_options(s.length, s.ctx(), False)
    b |= ch.b(nxt)
    return b | (ch.b("-") | _then(s, finish_note, ch) if whole else 0)


def finish_note(s: Tune) -> None:
    s.event(tm.dur(s.length, s.unit), sound(s, s.tok), s.tied)
    s.mode = B_TOKEN


def note_step(s: Tune, c: str) -> None:
    if not s.length and not s.tied and c in spellings(s).next.get(s.tok, ""):
        s.tok += c
    elif not s.tied and c in tm.LENGTH_TRIE.next.get(s.length, ""):
        s.length += c
    elif c == "-" and not s.tied:
        s.tied = True
    else:
        finish_note(s)
        token_step(s, c)


def rest_bits(s: Tune, ch: Chars) -> int:
    return cached(ch.rests, (token_key(s), s.length), lambda: _rest_bits(s, ch))


def _rest_bits(s: Tune, ch: Chars) -> int:
    nxt, whole = tm.length_options(s.length, s.ctx(), True)
    return ch.b(nxt) | (_then(s, finish_rest, ch) if whole else 0)


def finish_rest(s: Tune) -> None:
    s.event(tm.dur(s.length, s.unit), None, False)
    s.mode = B_TOKEN


def rest_step(s: Tune, c: str) -> None:
    if c in tm.LENGTH_TRIE.next.get(s.length, ""):
        s.length += c
    else:
        finish_rest(s)
        token_step(s, c)


def chord_bits(s: Tune, ch: Chars) -> int:
    """A chord's notes (the first one's length is the chord's), each maybe tied, then `]` and
    a tie; tied to, its top note the tie's pitch."""
    if s.tok == "]":
        return ch.b("-") | _then(s, finish_chord, ch)
    trie = chord_spellings(s)
    b = ch.b(trie.next.get(s.tok, "")) if not s.length and not s.tied else 0
    if s.tok not in trie.whole:
        return b
    n = s.chord[0] + 1
    nxt, whole = tm.length_options(s.length, s.ctx(), False, n > 1)
    b |= 0 if s.tied else ch.b(nxt)
    if whole:
        c = s.clone()
        _chord_note(c)
        b |= ch.b(chord_spellings(c).next[""]) if n < CHORD_NOTES else 0
        b |= ch.b("]") if n >= 2 and s.tie in (None, c.chord[2]) else 0
        b |= 0 if s.tied or c.chord[1] != tm.dur(s.length, s.unit) else ch.b("-")  # abc2midi
    return b


def _chord_note(s: Tune) -> None:
    """The chord's note being written is complete (tied: the chord ties on from it)."""
    n, first, top, tied = s.chord
    p = sound(s, s.tok)
    first = tm.dur(s.length, s.unit) if n == 0 else first
    s.chord = (n + 1, first, max(top, p), max(tied, p) if s.tied else tied)


def finish_chord(s: Tune, tied: bool = False) -> None:
    """The chord is complete: tied after `]`, from its top note, else from its highest note
    tied inside, if any."""
    _, first, top, inner = s.chord
    s.event(first, top, tied or inner >= 0)
    if not tied and inner >= 0:
        s.tie = inner
    s.mode = B_TOKEN


def chord_step(s: Tune, c: str) -> None:
    if s.tok == "]":
        finish_chord(s, c == "-")
        if c != "-":
            token_step(s, c)
    elif not s.length and not s.tied and c in chord_spellings(s).next.get(s.tok, ""):
        s.tok += c
    elif not s.tied and c in tm.LENGTH_TRIE.next.get(s.length, ""):
        s.length += c
    elif c == "-":
        s.tied = True
    else:
        _chord_note(s)
        s.tok, s.length, s.tied = c, "", False


def grace_bits(s: Tune, ch: Chars) -> int:
    """`{`, an optional `/`, one to four notes with short lengths, `}`."""
    if not s.tok:
        return ch.b(NOTE_START) | (ch.b("/") if not s.tied else 0)
    b = ch.b(ALL_SPELLINGS.next.get(s.tok, "")) if not s.length else 0
    if s.tok in ALL_SPELLINGS.whole:
        b |= ch.b(tm.GRACE_LENGTHS.next.get(s.length, ""))
        if s.length in tm.GRACE_LENGTHS.whole:
            b |= ch.b("}") | (ch.b(NOTE_START) if s.count + 1 < GRACE_NOTES else 0)
    return b


def grace_step(s: Tune, c: str) -> None:
    if not s.tok:
        s.tied, s.tok = (True, "") if c == "/" else (s.tied, c)
    elif not s.length and c in ALL_SPELLINGS.next.get(s.tok, ""):
        s.tok += c
    elif s.tok in ALL_SPELLINGS.whole and c in tm.GRACE_LENGTHS.next.get(s.length, ""):
        s.length += c
    elif c == "}":
        s.mode, s.grace = B_TOKEN, True
    else:
        s.count, s.tok, s.length = s.count + 1, c, ""


# -- text: chord symbols, decorations ---------------------------------------------------------


def quote_bits(s: Tune, ch: Chars) -> int:
    """A chord symbol, fingering or annotation abc2midi reads (`values.quote_ok`). In an
    annotation no `\\`, bar lines, brackets or braces, and a `,` only after `<>@` (music21)."""
    first, capped = s.tok[:1], s.count >= QUOTE_CAP
    if not first:
        return ch.b(values.ANNOTATION + values.FINGERING.strip() + "ABCDEFG")
    if first not in values.ANNOTATION:
        allowed = values.FINGERING + '"' if first.isdigit() else values.chord_next(s.tok)
        return ch.b(('"' if '"' in allowed else "") if capped else allowed)
    placed = any(c in s.tok[:2] for c in "<>@")
    return ch.b('"') | (0 if capped else ch.b(quoted_chars(ch.free_text, placed)))


def quote_step(s: Tune, c: str) -> None:
    if c == '"':
        s.mode, s.count, s.quoted = B_TOKEN, 0, True
    else:
        s.tok, s.count = s.tok + c, s.count + 1  # (at most QUOTE_CAP characters)


def deco_bits(s: Tune, ch: Chars) -> int:
    """`!name!` or `+name+`: letters, digits and `.:()<>-` (a quote inside one loses the
    readers)."""
    inside = "".join(c for c in ch.free_text if c not in s.tok and (c.isalnum() or c in ".:()<>-"))
    b = ch.b(inside) if s.count < DECO_CAP else 0
    return b | (ch.b(s.tok) if s.count else 0)


def deco_step(s: Tune, c: str) -> None:
    s.mode, s.count = (B_TOKEN, 0) if c == s.tok else (s.mode, s.count + 1)


# -- bar lines, brackets ----------------------------------------------------------------------


def bar_bits(s: Tune, ch: Chars) -> int:
    nxt, whole = _bar_options(s, s.tok)
    b = ch.b(nxt)
    if whole:
        b |= _then(s, finish_bar, ch, s.tok)
    if len(s.tok) > 1 and s.tok[-1] == "[" and _bar_options(s, s.tok[:-1])[1]:
        c = s.clone()  # `|[` then no digit: the bar line was `|`, the `[` opens a chord
        finish_bar(c, s.tok[:-1])
        c.mode, c.count = B_BRACKET, 1
        b |= bracket_bits(c, ch)
    return b


def finish_bar(s: Tune, token: str) -> None:
    s.take_bar(token)
    s.mode = B_TOKEN


def bar_step(s: Tune, c: str) -> None:
    if c in tm.BAR_TRIE.next.get(s.tok, ""):
        s.tok += c
    elif len(s.tok) > 1 and s.tok[-1] == "[":
        finish_bar(s, s.tok[:-1])
        s.mode, s.count = B_BRACKET, 1
        bracket_step(s, c)
    else:
        finish_bar(s, s.tok)
        token_step(s, c)


def bracket_bits(s: Tune, ch: Chars) -> int:
    """After `[`: a bar line (`[|`, `[1`: not `[1` right after a bar line, which the judge
    reads as part of it), a chord, an inline field."""
    b = ch.b(_bar_options(s, "[")[0])
    b &= ~ch.b("0123456789") if s.count == 1 else b
    chord = s.tie != REST_TIE and not s.rep[2] and not s.over
    if chord and any(tm.length_options("", s.ctx(), False)):
        c = s.clone()
        c.chord = NO_CHORD
        b |= ch.b(chord_spellings(c).next[""])
    if not s.over and s.count < 2:
        b |= ch.b("".join(f for f in values.BODY_FIELDS if _field_possible(s, f)))
    return b


def bracket_step(s: Tune, c: str) -> None:
    s.after_bar = ""
    if c in NOTE_START:
        s.mode, s.tok, s.length, s.tied, s.chord = B_CHORD, c, "", False, NO_CHORD
    elif c in "|12":
        s.mode, s.tok = B_BAR, "[" + c
    else:
        s.mode, s.field, s.tok = B_NAME, c, "["


# -- slurs, tuplets, broken rhythm ------------------------------------------------------------


def open_bits(s: Tune, ch: Chars) -> int:
    """After `(`: a tuplet's digit, or what may follow a slur's start."""
    b = 0 if s.count else ch.b(_tuplet_digits(s))
    return b | (_then(s, _slur, ch) if s.soup < SOUP else 0)


def _slur(s: Tune) -> None:
    s.mode, s.soup = B_TOKEN, s.soup + 1
    s.between()


def open_step(s: Tune, c: str) -> None:
    if c.isdigit():
        s.mode, s.tok, s.soup = B_TUPLET, "(" + c, 0
    else:
        _slur(s)
        token_step(s, c)


def _tuplet(s: Tune, text: str) -> tuple[int, int, int]:
    """(p, q, r) of a tuplet's text, q and r by the judge's defaults where not written."""
    parts = text[1:].split(":")
    p = int(parts[0])
    q = int(parts[1]) if len(parts) > 1 else tm.tuplet_q(p, s.meter_t)
    return p, q, int(parts[2]) if len(parts) > 2 else p


def _tuplet_forms(tok: str) -> list[str]:
    p = tok[1]
    forms = [f"({p}"] + [f"({p}:{q}" for q in range(1, 10)]
    return forms + [f"({p}:{q}:{r}" for q in range(1, 10) for r in range(1, 10)]


def tuplet_bits(s: Tune, ch: Chars) -> int:
    ok = [f for f in _tuplet_forms(s.tok) if f.startswith(s.tok) and s.tuplet_ok(*_tuplet(s, f))]
    b = ch.b("".join({f[len(s.tok)] for f in ok if len(f) > len(s.tok)}))
    return b | (_then(s, finish_tuplet, ch) if s.tok in ok else 0)


def finish_tuplet(s: Tune) -> None:
    p, q, r = _tuplet(s, s.tok)
    s.tup, s.mode = (r, q, p), B_TOKEN
    s.between()


def tuplet_step(s: Tune, c: str) -> None:
    if c == ":" or c.isdigit():
        s.tok += c
    else:
        finish_tuplet(s)
        token_step(s, c)


def broken_bits(s: Tune, ch: Chars) -> int:
    more = len(s.tok) < 2 and s.broken_ok(s.tok + s.tok[0])
    return (ch.b(s.tok[0]) if more else 0) | _then(s, finish_broken, ch)


def finish_broken(s: Tune) -> None:
    s.take_broken(s.tok)
    s.mode = B_TOKEN


def broken_step(s: Tune, c: str) -> None:
    if c == s.tok[0] and len(s.tok) < 2:
        s.tok += c
    else:
        finish_broken(s)
        token_step(s, c)


# -- line continuation, fields ----------------------------------------------------------------


def cont_step(s: Tune, c: str) -> None:
    s.mode, s.line, s.lead, s.after_bar, s.blank = B_TOKEN, 0, "", "", True  # the line goes on


def name_bits(s: Tune, ch: Chars) -> int:
    """After a field's letter: `:`; at a line's start the letter may be a decoration too."""
    b = ch.b(":") if s.tok == "[" or _field_possible(s, s.field) else 0
    return b if s.tok == "[" else b | _then(s, _as_mark, ch)


def _as_mark(s: Tune) -> None:
    s.mode, s.mark = B_TOKEN, mark_after(s, "", s.field)


def name_step(s: Tune, c: str) -> None:
    if c == ":":
        s.mode, s.value = B_VALUE, ""
    else:
        _as_mark(s)
        token_step(s, c)


def value_bits(s: Tune, ch: Chars) -> int:
    trie = values.trie(s.field)
    nxt = trie.next.get(s.value, "")
    if s.field == "L":  # only toward a unit length the bar can be filled in
        units = [v for v in trie.whole if s.field_ok("L", v)]
        nxt = "".join(c for c in nxt if any(v.startswith(s.value + c) for v in units))
    b = ch.b(nxt)
    if s.value in trie.whole and s.field_ok(s.field, s.value):
        b |= ch.b("]" if s.tok == "[" else "\n")
    return b


def value_step(s: Tune, c: str) -> None:
    if c in "]\n":
        s.take_field(s.field, s.value)
        s.mode = B_TOKEN
        if c == "\n":
            s.line, s.lead, s.blank = 0, "", True  # a field line: no line end for the bars
    else:
        s.value += c
