"""ABC pitches without music21: keys, meters, unit lengths, and a tune's melody, fast.

`melody(text)` is what abc-char's `melody` hook gives: the top pitch of every note onset of a
tune, tied notes once, fast enough to index a whole training corpus in seconds. `abc_read`
reads tunes fully (durations, bars, every character accounted for) on the same pitch rules.

Pitches follow ABC 2.1: `C` is middle C (60), `c` the octave above, `'` and `,` shift octaves;
an accidental holds for that note (letter and octave) until the bar ends; otherwise the key
signature of `K:` (tonic, mode and explicit accidentals) applies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

_STEP = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_MAJOR_FIFTHS = {"C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5, "F": -1}
_MODES = {"maj": 0, "ion": 0, "mix": -1, "dor": -2, "min": -3, "m": -3, "aeo": -3, "phr": -4}
_MODES.update({"loc": -5, "lyd": 1})
_SHARPS, _FLATS = "FCGDAEB", "BEADGCF"
_ACC = {"^^": 2, "^": 1, "__": -2, "_": -1, "=": 0}
_KEY = re.compile(r"^\s*(?P<tonic>[A-G])(?P<acc>[#b]?)\s*(?P<mode>[A-Za-z]*)(?P<rest>.*)$")
_EXPLICIT = re.compile(r"(\^\^|\^|__|_|=)([A-Ga-g])")
FIELD_LINE = re.compile(r"^([A-Za-z]):(.*)$")
_LENGTH = re.compile(r"^(\d*)(/*)(\d*)$")


@dataclass(frozen=True)
class Key:
    """A key signature: its tonic's pitch class (None for `K:none`/HP) and the letters it alters."""

    tonic: int | None
    accidentals: dict[str, int]  # upper-case letter -> semitones
    minor: bool = False


def parse_key(value: str) -> Key | None:
    """`K:` value -> Key; None when it names no key ABC knows."""
    value = value.split("%")[0].strip()
    if value.lower() in ("", "none") or value.startswith("clef=") or value in ("HP", "Hp"):
        return Key(None, {"F": 1, "C": 1} if value == "Hp" else {})
    m = _KEY.match(value)
    if not m:
        return None
    mode = m["mode"][:3].lower() if m["mode"].lower() != "m" else "m"
    if mode and mode not in _MODES:
        if not m["mode"][:1].isupper():
            return None
        mode, rest = "", m["mode"] + m["rest"]  # e.g. "G exp": a word that is no mode
    else:
        rest = m["rest"]
    fifths = _MAJOR_FIFTHS[m["tonic"]] + {"#": 7, "b": -7, "": 0}[m["acc"]] + _MODES.get(mode, 0)
    acc = {ch: 1 for ch in _SHARPS[: max(fifths, 0)]} | {ch: -1 for ch in _FLATS[: max(-fifths, 0)]}
    for sign, letter in _EXPLICIT.findall(rest):
        acc[letter.upper()] = _ACC[sign]
    tonic = (_STEP[m["tonic"]] + {"#": 1, "b": -1, "": 0}[m["acc"]]) % 12
    return Key(tonic, acc, minor=_MODES.get(mode, 0) == -3)


def parse_meter(value: str) -> Fraction | None | str:
    """`M:` value -> bar length in whole notes; None for free meter; "?" when unreadable."""
    value = value.split("%")[0].strip()
    if value.lower() in ("none", ""):
        return None
    if value in ("C", "C|"):
        return Fraction(1)
    num, _, den = value.partition("/")
    try:
        top = sum(int(t) for t in num.strip("()").split("+"))
        return Fraction(top, int(den)) if top > 0 and int(den) > 0 else "?"
    except ValueError:
        return "?"


def parse_unit(value: str) -> Fraction | None:
    num, _, den = value.split("%")[0].strip().partition("/")
    try:
        unit = Fraction(int(num), int(den or 1))
    except (ValueError, ZeroDivisionError):
        return None
    return unit if unit > 0 else None


def length(text: str) -> Fraction:
    """A note-length suffix (`2`, `/`, `//`, `3/2`, `/4`) as a multiple of the unit length."""
    m = _LENGTH.match(text)
    if not m:
        return Fraction(1)
    num = int(m[1]) if m[1] else 1
    if not m[2]:
        return Fraction(num)
    den = int(m[3]) if m[3] else 2 ** len(m[2])
    return Fraction(num, den) if den else Fraction(num)


def pitch(acc: str, letter: str, octave: str, key: Key, bar_acc: dict[str, int]) -> int:
    """The MIDI number of one note; `bar_acc` carries the bar's accidentals (updated here)."""
    upper = letter.upper()
    base = 60 + _STEP[upper] + (12 if letter.islower() else 0)
    base += 12 * (octave.count("'") - octave.count(","))
    slot = f"{upper}{base // 12}"
    if acc:
        bar_acc[slot] = _ACC[acc]
    shift = bar_acc.get(slot, key.accidentals.get(upper, 0))
    return base + shift


def split_header(text: str) -> tuple[list[str], list[tuple[int, str]]]:
    """Header lines (through the first `K:`) and numbered body lines, comments removed."""
    header: list[str] = []
    body: list[tuple[int, str]] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(?<!\\)%.*", "", raw).rstrip()
        if body or (header and header[-1].startswith("K:")):
            body.append((n, line))
        elif line.strip():
            header.append(line.strip())
    return header, body


def first_field(lines: list[str], name: str) -> str | None:
    found = [ln[2:] for ln in lines if ln.startswith(f"{name}:")]
    return found[0].strip() if found else None


# -- the fast path: melody only ---------------------------------------------------------------

_FAST = re.compile(
    r"\"[^\"]*\"|![^!]*!|\+[^+]*\+|\{[^}]*\}|\[[A-Za-z]:[^\]]*\]|\[[1-9|]"
    r"|(\[)(?=[=_^A-Ga-g])|(\])|(\|)|(-)|(\^\^|\^|__|_|=)?([A-Ga-g])([,']*)"
)


def melody(text: str) -> list[int]:
    """The top pitch of every note onset of a tune (chords by their top note, tied notes once,
    grace notes left out), as fast as plain Python allows: no durations, no bars."""
    header, body = split_header(text)
    key = parse_key(first_field(header, "K") or "C") or Key(0, {})
    out: list[int] = []
    bar_acc: dict[str, int] = {}
    chord, tied, last = -1, False, -1
    for _, line in body:
        m = FIELD_LINE.match(line)
        if m and not line.startswith("|"):
            key = (parse_key(m[2]) or key) if m[1] == "K" else key
            continue
        for lb, rb, bar, tie, acc, letter, octave in _FAST.findall(line):
            if letter:
                p = pitch(acc, letter, octave, key, bar_acc)
                if chord >= 0:
                    chord = max(chord, p)
                elif not (tied and p == last):
                    out.append(p)
                last, tied = (p, False) if chord < 0 else (last, tied)
            elif bar:
                bar_acc = {}
            elif tie:
                tied = True
            elif lb:
                chord = 0
            elif rb and chord >= 0:
                if not (tied and chord == last):
                    out.append(chord)
                chord, last, tied = -1, chord, False
    return out
