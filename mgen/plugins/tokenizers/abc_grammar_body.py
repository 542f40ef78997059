"""The body of a tune in the abc-char grammar: one mode per token being written, each with the
characters it allows next (`bits`, a bitmask over the vocabulary) and the step one character
takes (`step`). A token's characters are the strict judge's lexer's (`mgen.formats.abc.read`):
a note is its spelling (accidental, letter, octave marks), its length and a tie; what may come
once a token could end is what the state after it allows (`_then`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Protocol

from mgen.plugins.tokenizers import abc_grammar_time as tm
from mgen.plugins.tokenizers import abc_grammar_values as values
from mgen.plugins.tokenizers.abc_grammar_state import (
    B_BAR,
    B_BRACKET,
    B_BROKEN,
    B_CONT,
    B_DECO,
    B_GRACE,
    B_NAME,
    B_NOTE,
    B_OPEN,
    B_QUOTE,
    B_REST,
    REST_TIE,
    BarAcc,
    Signature,
    Tune,
    pitch,
    slot,
)  # fmt: skip
from mgen.plugins.tokenizers.abc_grammar_values import Trie

SPACE = " \t"
LETTERS = "ABCDEFGabcdefg"
NOTE_START = "^_=" + LETTERS
MARKS = ".~HIKLMQRSTUVikuvy"  # what folk-abc uses of ABC's decoration letters
#: music21 reads a decoration letter after one of these as a note ("could not get pitch
#: information") unless a note follows at once: `Tv` then a note only
_FIRM = "LST~"
_NOTE_NEXT = "!"  # the `mark` of a state after such a pair: a note comes next
#: A decoration letter goes before something (not a line's end, nor the tune's); a space
#: after one only after these (as folk-abc writes them), and then no other letter.
_SPACE_OK = "HILSuy"
_SPACED = "_"  # the `mark` of a state after a letter and spaces
#: After a chord symbol music21 reads some letters as notes: never these, these only before a
#: note (`"tr"T` is fine, `"4"S |` is not).
_NOT_QUOTED, _FIRM_QUOTED = "IRUVi", "HLS~"
QUOTE_CAP, DECO_CAP, GRACE_NOTES, CHORD_NOTES = 48, 12, 4, 4
#: Decorations, slurs, chord symbols and grace notes in a row, between notes, bar lines and
#: the like: folk-abc writes at most 4; a model that writes more is lost in them (and music21
#: with it), so 4 is all there may be.
SOUP, _ZERO = 4, '"{!+)'
_ACC = {"^^": 2, "^": 1, "__": -2, "_": -1, "=": 0}


class Chars(Protocol):
    """The vocabulary as bits (`mgen.plugins.tokenizers.abc_grammar._Chars`)."""

    END: int
    free_text: str
    cache: dict
    notes: dict
    rests: dict

    def b(self, chars: str) -> int: ...


# -- spellings ------------------------------------------------------------------------------


def _spellings() -> dict[str, tuple[str, str, int]]:
    """Every spelling of a note the grammar writes: (accidental, letter, octave) by its text,
    two octaves up from `c` and two down from `C`."""
    out = {}
    for acc in ("", "^", "^^", "_", "__", "="):
        for letter in LETTERS:
            for n in range(3):
                mark = ("'" if letter.islower() else ",") * n
                out[acc + letter + mark] = (acc, letter, n if letter.islower() else -n)
    return out


SPELLINGS = _spellings()
ALL_SPELLINGS = Trie.of(set(SPELLINGS))


@functools.lru_cache(maxsize=4096)
def _tied(to: int, key: Signature, bar_acc: BarAcc) -> Trie:
    """The spellings of the pitch a tie asks for, under the key and the bar's accidentals."""
    return Trie.of({s for s, parts in SPELLINGS.items() if pitch(*parts, key, bar_acc) == to})


@functools.lru_cache(maxsize=4096)
def _under(to: int, key: Signature, bar_acc: BarAcc) -> Trie:
    """The spellings of pitches up to a tie's: a tied chord's notes (its top one tied)."""
    return Trie.of({s for s, parts in SPELLINGS.items() if pitch(*parts, key, bar_acc) <= to})


def chord_spellings(s: Tune) -> Trie:
    """A chord's notes; with a tie to come, none above its pitch, and the last one it if the
    chord has not reached it yet."""
    if s.tie is None:
        return ALL_SPELLINGS
    last = s.chord[0] == CHORD_NOTES - 1 and s.chord[2] < s.tie
    return (_tied if last else _under)(s.tie, s.key, s.bar_acc)


def spellings(s: Tune) -> Trie:
    if s.tie is None or s.tie == REST_TIE:
        return ALL_SPELLINGS
    return _tied(s.tie, s.key, s.bar_acc)


def sound(s: Tune, spelling: str) -> int:
    """The pitch of a complete spelling; its accidental holds for the rest of the bar."""
    acc, letter, octave = SPELLINGS[spelling]
    p = pitch(acc, letter, octave, s.key, s.bar_acc)
    if acc:
        s.bar_acc = tuple(sorted({**dict(s.bar_acc), slot(letter, octave): _ACC[acc]}.items()))
    return p


# -- between tokens -------------------------------------------------------------------------


def token_key(s: Tune) -> tuple:
    """Everything the characters allowed between tokens depend on."""
    tied = s.tie is not None and s.tie >= 0
    return (s.over, s.notes, s.tie, s.broken, s.tup, s.rep, s.t, s.owe, s.meter_t,
            s.unit, s.bars, s.bar0, s.essen, s.line, s.lead != "", s.after_bar, s.last,
            s.last_pitch is None, s.last_pitch == REST_TIE, s.key if tied else (), s.bar_acc if tied else (), s.mark,
            s.prev, s.opening, s.grace, s.spaced, s.soup, s.quoted, s.blank)  # fmt: skip


def cached(store: dict, key: tuple, compute: Callable[[], int]) -> int:
    """`store[key]`, computed the first time (a store that grows past its bound restarts)."""
    found = store.get(key)
    if found is None:
        if len(store) > 200_000:
            store.clear()
        found = store[key] = compute()
    return found


def token_bits(s: Tune, ch: Chars) -> int:
    """What may come between tokens: cached by everything it depends on."""
    return cached(ch.cache, token_key(s), lambda: _token_bits(s, ch))


def _token_bits(s: Tune, ch: Chars) -> int:
    if s.over:  # past the bar's end by rests: more rests, then the line end closes it
        return ch.b(SPACE + "zx\n") | (ch.END if s.may_end() else 0)
    notes = _note_starts(s, ch)
    if s.mark == _NOTE_NEXT:
        return notes
    b = ch.b(SPACE + '"!+{') | _event_bits(s, ch) | _bar_bits(s, ch) | _line_bits(s, ch)
    decorable = notes | (_event_bits(s, ch) & ch.b("zx["))  # what a decoration may precede
    b |= ch.b(_marks(s.mark, notes != 0, s.quoted)) if decorable else 0  # (K, L, M: a field)
    b |= ch.b("()")
    if s.soup >= SOUP:  # no more: a tuplet may begin (not after `.`: abc2midi), not a slur
        tuplet = _tuplet_digits(s) and s.mark[:1] != "."
        b &= ~ch.b(MARKS + _ZERO + ("" if tuplet else "("))
    b |= ch.b(">") if s.broken_ok(">") else 0
    b |= ch.b("<") if s.broken_ok("<") else 0
    if s.tie is None and s.last_pitch not in (None, REST_TIE) and not s.after_bar:  # (abc2midi
        b |= ch.b("-") if s.last is not None or s.broken is not None else 0  # ties no rest)
    if not s.mark:
        return b | (ch.END if s.may_end() else 0)
    # After a decoration abc2midi wants what it decorates: a note, rest or chord, or another
    # decoration (a slur after `.`); anything else there (a space, a line end, `(`, `{`, `!`,
    # `"`, a bar line, `>`) is its "malformed note" (and music21 may read the letter as one).
    return b & (decorable | ch.b(MARKS + "(" * (s.mark == ".")))


@functools.cache
def _marks(after: str, notes: bool, quoted: bool) -> str:
    """The decoration letters that may follow `after` (a state's `mark`); `notes`: whether a
    note may come (for a letter that needs one after it); `quoted`: a chord symbol waits."""
    if after == _SPACED or (after and after in _FIRM and not notes):
        return ""
    if quoted:
        return "".join(m for m in MARKS if m not in _NOT_QUOTED + ("" if notes else _FIRM_QUOTED))
    return MARKS


@functools.cache
def quoted_chars(text: str, placed: bool) -> str:
    """The characters a quote may hold next (`placed`: it begins with where it goes, `<>@`)."""
    return "".join(c for c in text if c not in '"\\|[]{}' + ("" if placed else ","))


def mark_after(s: Tune, was_mark: str, c: str) -> str:
    """The `mark` after the decoration letter `c`: a note must come next after two letters
    where music21 wants one, or after some letters while a chord symbol waits."""
    firm = (was_mark and was_mark in _FIRM) or (s.quoted and c in _FIRM_QUOTED)
    return _NOTE_NEXT if firm else c


def _note_starts(s: Tune, ch: Chars) -> int:
    """The characters a note may start with now (none where no note fits)."""
    if s.rep[2] or s.tie == REST_TIE or not any(tm.length_options("", s.ctx(), False)):
        return 0
    return ch.b(spellings(s).next[""])


def _event_bits(s: Tune, ch: Chars) -> int:
    """A note, rest or chord may start: one of some length fits the bar."""
    if s.rep[2]:
        return 0  # the second ending's bar line comes first
    ctx, b = s.ctx(), 0
    if s.tie != REST_TIE and any(tm.length_options("", ctx, False)):
        b |= ch.b(spellings(s).next[""] + "[")
    if s.tie in (None, REST_TIE) and any(tm.length_options("", ctx, True)):
        b |= ch.b("zx")
    return b


def _bar_bits(s: Tune, ch: Chars) -> int:
    b = 0
    for first in "|:[":
        if first in absorbed(s.after_bar) or (first == ":" and s.line == 1 and s.lead):
            continue
        nxt, whole = _bar_options(s, first)
        if whole or (nxt.strip("0123456789") if s.after_bar and first == "[" else nxt):
            b |= ch.b(first)  # (`[` and a digit right after a bar line: the judge's `|[1`)
    return b


def absorbed(bar: str) -> str:
    r"""What the judge's lexer would take into a bar line just written (`mgen.formats.abc.read`:
    `:*\.?\[?\|[\]|]*:*(\[?[1-9][0-9,\-]*)?` and `::+`), so cannot start the next token."""
    if not bar:
        return ""
    if bar[-1] in "|]":
        return "|:-"
    if bar[-1] == ":":
        return ":-" + ("|" if set(bar) == {":"} else "")
    return "-"  # (and `[` then a digit: `tokens.bracket_bits`)


def _line_bits(s: Tune, ch: Chars) -> int:
    """A line end (not on an empty line, nor inside a tuplet or broken rhythm), a line that goes
    on (`\\`), a field line (K:, L:, M:) at a line's start, an inline field."""
    if not s.line:
        return 0  # (a field line's letter is among the decoration letters)
    b = ch.b("\\")
    if s.tup is None and s.broken is None and not s.blank:  # a blank line ends the tune
        b |= ch.b("\n")
    if not s.over and not s.mark and any(_field_possible(s, f) for f in values.BODY_FIELDS):
        b |= ch.b("[")
    return b


def _field_possible(s: Tune, name: str) -> bool:
    return any(s.field_ok(name, v) for v in _field_probes(name))


@functools.cache
def _field_probes(name: str) -> tuple[str, ...]:
    """One value of each kind a field may take (each unit length; a meter, a key)."""
    found = {values.unit(v): v for v in sorted(values.trie(name).whole)} if name == "L" else {}
    return tuple(found.values()) or ("C",)


def _bar_options(s: Tune, prefix: str) -> tuple[str, bool]:
    key = (s.rep, s.over, s.owe, s.t, s.meter_t, s.tup is None and s.broken is None, s.unit,
           s.bars == 0, s.prev, s.opening)  # fmt: skip
    return _bar_options_at(prefix, key, s)


def _bar_options_at(prefix: str, key: tuple, s: Tune, cache: dict = {}) -> tuple[str, bool]:  # noqa: B006
    found = cache.get((prefix, key))
    if found is None:
        nxt = "".join(c for c in tm.BAR_TRIE.next.get(prefix, "")
                      if any(map(s.bar_ok, _bars_from(prefix + c))))  # fmt: skip
        found = cache[(prefix, key)] = (nxt, prefix in tm.BARS and s.bar_ok(prefix))
        if len(cache) > 100_000:
            cache.clear()
    return found


@functools.cache
def _bars_from(prefix: str) -> tuple[str, ...]:
    return tuple(b for b in tm.BARS if b.startswith(prefix))


def _tuplet_digits(s: Tune) -> str:
    """The tuplets `(p` that may start now."""
    if s.broken is not None or s.tup is not None or s.over:
        return ""
    return _tuplets(s.room(), s.unit, s.meter_t, s.owe is not None)


@functools.lru_cache(maxsize=4096)
def _tuplets(room: int | None, unit: int, meter: int | None, exact: bool) -> str:
    out = ""
    for p in range(2, 10):
        forms = [(tm.tuplet_q(p, meter), p)] + [(q, r) for q in range(1, 10) for r in range(1, 10)]
        if any(tm.fills(room, unit, r, q, p, exact) for q, r in forms):
            out += str(p)
    return out


def token_step(s: Tune, c: str) -> None:
    was_bar, was_mark, s.after_bar, s.mark = s.after_bar, s.mark, "", ""
    if c in _ZERO or c in MARKS and not (s.line == 1 and c in values.BODY_FIELDS):
        s.soup += 1  # (a slur's `(` counts once it is one: `tokens.open_step`)
    elif c not in SPACE + "\n(":
        s.soup = 0
    s.spaced = c in SPACE
    if s.spaced:
        s.mark = _SPACED if was_mark else ""
        return
    if c in NOTE_START:
        s.mode, s.tok, s.length, s.tied = B_NOTE, c, "", False
    elif c in "zx":
        s.mode, s.tok, s.length = B_REST, c, ""
    elif c == "[":
        # right after a bar line: no bar line (the judge reads one); after a decoration letter:
        # no inline field (abc2midi reads its `[` as a chord's)
        s.mode, s.count = B_BRACKET, 1 if was_bar else 2 if was_mark else 0
    elif c in "|:":
        s.mode, s.tok = B_BAR, c
    elif c == "(":
        s.mode, s.count = B_OPEN, int(was_mark[:1] == ".")  # abc2midi: no tuplet after `.`
    elif c == ")":
        pass
    elif c in "<>":
        s.mode, s.tok = B_BROKEN, c
    else:
        _token_step_rare(s, c, was_mark)


def _token_step_rare(s: Tune, c: str, was_mark: str) -> None:
    if c == "{":
        s.mode, s.tok, s.length, s.count, s.tied = B_GRACE, "", "", 0, False
    elif c == '"':
        s.mode, s.count, s.tok = B_QUOTE, 0, ""
    elif c in "!+":
        s.mode, s.tok, s.count = B_DECO, c, 0
    elif c == "-":
        s.tie = s.last_pitch
    elif c == "\n":
        s.line_end()
    elif c == "\\":
        s.mode = B_CONT
    elif s.line == 1 and c in values.BODY_FIELDS:
        s.mode, s.field, s.tok = B_NAME, c, ""
    else:  # a decoration letter
        s.mark = mark_after(s, was_mark, c)


def _then(s: Tune, finish, ch: Chars, *args) -> int:
    """The bits after the token in progress ends (`finish` ends it on a copy)."""
    c = s.clone()
    finish(c, *args)
    return token_bits(c, ch)
