"""The values the abc-char grammar lets a field take (mgen.plugins.tokenizers.abc_grammar).

A meter, unit length, key or tempo is one of a finite set of strings every reader of the
project takes (`mgen.formats.abc.music`, music21, abc2midi), written as folk-abc writes them
(a leading space or two allowed); titles and rhythms are free text of one line. The
sets are kept as tries: the characters that may come next after a prefix, and whether the
prefix is a whole value.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction

from mgen.formats.abc.music import Key, parse_key, parse_meter, parse_unit

#: Fields the abc-char tokenizer keeps (its KEEP_FIELDS) that the grammar writes: free text
#: or a value from a set (not P:, whose text abc2midi reads as a part order, nor V:).
FREE_TEXT = "TR"
VALUED = "MLKQ"
#: How many of each field the header may hold, and how long free text may run.
MOST = {"T": 4, "R": 1, "M": 1, "L": 1, "K": 1, "Q": 1}
TEXT_CAP = 80
#: The fields a body line or an inline `[X:...]` field may change.
BODY_FIELDS = "KLM"

_MODES = ["m", "min", "maj", "mix", "dor", "phr", "lyd", "loc", "aeo", "ion", "M", "Min", "Maj", "Mix", "Dor", "Phr", "Lyd", "Loc", "Aeo", "Ion", "minor", "major", "Minor", "Major", "dorian", "Dorian", "lydian", "Lydian", "mixolydian", "Mixolydian", "phrygian", "Phrygian", "locrian", "Locrian", "aeolian", "Aeolian", "ionian", "Ionian"]  # fmt: skip
_DENOMINATORS = (1, 2, 4, 8, 16)


@dataclass(frozen=True)
class Trie:
    """A finite set of strings: `next[prefix]` the characters that may follow a prefix,
    `whole` the prefixes that are members."""

    next: dict[str, str]
    whole: frozenset[str]

    @classmethod
    def of(cls, members: set[str]) -> Trie:
        nxt: dict[str, set[str]] = {}
        for m in members:
            for i in range(len(m)):
                nxt.setdefault(m[:i], set()).add(m[i])
            nxt.setdefault(m, set())
        return cls({p: "".join(sorted(c)) for p, c in nxt.items()}, frozenset(members))


def _spaced(cores: set[str]) -> set[str]:
    return {pad + c for c in cores for pad in ("", " ", "  ")}


def meter_values() -> set[str]:
    fractions = {f"{n}/{d}" for n in range(1, 13) for d in _DENOMINATORS}
    return _spaced(fractions | {"C", "C|", "none"})


def unit_values() -> set[str]:
    return _spaced({f"1/{d}" for d in (1, 2, 4, 8, 16, 32)})


def key_values() -> set[str]:
    """Tonic, mode (any spelling `parse_key` reads) and, after a short mode, at most one
    explicit accidental (`Dmix=c`)."""
    tonics = {t + a for t in "ABCDEFG" for a in ("", "#", "b")}
    modes = {sep + m for m in _MODES for sep in ("", " ")}
    short = {""} | {m for m in _MODES if len(m) == 3 and m.islower()}
    explicit = {a + n for a in "^_=" for n in "abcdefg"}
    keys = {t + m for t in tonics for m in modes | {""}}
    keys |= {t + m + e for t in tonics for m in short for e in explicit}
    return {pad + k for k in keys for pad in ("", " ")}


def tempo_values() -> set[str]:
    speeds = {str(n) for n in range(40, 241)}
    beats = ("", "1/4=", "1/8=", "3/8=", "1/2=", "3/4=", "3/2=")
    return _spaced({b + s for b in beats for s in speeds})


@functools.cache
def trie(field: str) -> Trie:
    """The values a valued field (M, L, K, Q) may take."""
    values = {"M": meter_values, "L": unit_values, "K": key_values, "Q": tempo_values}[field]()
    return Trie.of(values)


@functools.cache
def meter(value: str) -> Fraction | None:
    """A meter value's bar length in whole notes (None: free meter), as the judge reads it."""
    found = parse_meter(value)
    assert found != "?", value
    return found  # type: ignore[return-value]


@functools.cache
def unit(value: str) -> Fraction:
    found = parse_unit(value)
    assert found is not None, value
    return found


@functools.cache
def key(value: str) -> Key:
    found = parse_key(value)
    assert found is not None, value
    return found


@functools.cache
def signature(value: str) -> tuple[tuple[str, int], ...]:
    """A key's accidentals, (letter, semitones) sorted: all a note's pitch needs of it."""
    return tuple(sorted(key(value).accidentals.items()))


def default_unit(bar: Fraction | None) -> Fraction:
    """ABC's unit length when no L: field gives one: 1/16 below 3/4, else 1/8."""
    return Fraction(1, 16) if bar is not None and bar < Fraction(3, 4) else Fraction(1, 8)


def free_text_chars(chars: list[str]) -> str:
    """The characters free text may hold: any that stays on its line (whatever Python's
    `splitlines`, which the tokenizer's writer and the judge use, takes for a line break)."""
    return "".join(c for c in chars if len(c) == 1 and len(f"a{c}b".splitlines()) == 1)


# -- text in quotes: what abc2midi reads without an error ------------------------------------
#: A quote opens an annotation with where it goes (free text after), a fingering (digits and
#: spaces, as O'Neill's "4"), or a chord symbol: abc2midi calls any other opening "a guitar
#: chord that does not start with A-G" and any other chord name "unrecognized" (measured on
#: abcmidi's abc2midi, one quoted string at a time).
ANNOTATION, FINGERING = "^_<>@", "0123456789 "
CHORD_TYPES = ("", "m", "7", "m7", "maj7", "M7", "maj9", "6", "m6", "9", "m9", "11", "5", "dim",
               "dim7", "aug", "+", "sus", "sus2", "sus4", "7sus4", "m7b5")  # fmt: skip


@functools.cache
def chord_names() -> dict[str, str]:
    """Every prefix of a chord symbol (root A-G, `#`/`b`, a type, `/` and a bass) -> the
    characters that may follow it, `"` among them where the symbol is complete."""
    roots = [r + a for r in "ABCDEFG" for a in ("", "#", "b")]
    whole = {r + t + b for r in roots for t in CHORD_TYPES for b in ["", *("/" + x for x in roots)]}
    nexts: dict[str, set[str]] = {}
    for name in whole:
        for i in range(len(name)):
            nexts.setdefault(name[:i], set()).add(name[i])
        nexts.setdefault(name, set()).add('"')
    return {k: "".join(sorted(v)) for k, v in nexts.items()}


def chord_next(text: str) -> str:
    """What may follow the chord symbol `text` so far ("": nothing, it is none)."""
    return chord_names().get(text, "")


def quote_ok(text: str) -> bool:
    """Whether abc2midi reads the quoted `text` (without its quotes) without an error."""
    if text[:1] in tuple(ANNOTATION):
        return True
    if text[:1].isdigit():
        return all(c in FINGERING for c in text)
    return '"' in chord_names().get(text, "")


#: The R: text abc2midi takes for a hornpipe (after spaces: it compares the first 8 letters).
HORNPIPE = ("Hornpipe", "hornpipe")


def hornpipe(text: str) -> bool:
    """Whether abc2midi reads an R: field's text as a hornpipe."""
    return text.lstrip(" \t").startswith(HORNPIPE)


def hornpipe_meter(value: str) -> bool:
    """Whether an M: value is one a hornpipe may have: 2/4 or 4/4 (`C` is 4/4)."""
    return value.strip() in ("2/4", "4/4", "C")


def key_words(value: str) -> str:
    """A K: field's key (its tonic and mode, clef and other words left out)."""
    words = value.split()
    if not words:
        return ""
    return " ".join(words[:2]) if len(words) > 1 and "=" not in words[1] else words[0]


def attribute(field: str, value: str) -> str | None:
    """The control an M: or K: value is (`<meter=6/8>`, `<key=D_minor>`: the values training
    with --controls reads from these fields, mgen.core.data.controls), spaces for underscores."""
    from mgen.core.contracts.controls import normal
    from mgen.formats.keys import normal_key

    v = value.strip()
    if field == "K":
        return normal_key(key_words(v))
    if field == "M" and v and v != "none":
        return normal("meter", v)
    return None


@functools.cache
def value_trie(field: str, asked: str | None, hornpipe: bool) -> Trie:
    """The values a field may take: those that give the `asked` control (sampling asked for a
    key or meter; all of them if none does), for a hornpipe's M: only 2/4 and 4/4."""
    whole = trie(field).whole
    if hornpipe:
        whole = frozenset(v for v in whole if hornpipe_meter(v))
    if asked is not None:
        whole = frozenset(v for v in whole if attribute(field, v) == asked) or whole
    return trie(field) if whole == trie(field).whole else Trie.of(set(whole))
