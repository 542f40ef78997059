"""**kern read by a parser of its own, not the writer's: Humdrum structure, kern tokens, bars.

`read_kern(text)` checks what every Humdrum reader relies on: exclusive interpretations (`**kern`)
first; every record with one field per open spine, following the spine manipulators (`*^` split,
`*v` join, `*+` add, `*x` exchange, `*-` end); records of one kind across their fields
(interpretations, bar lines, comments); nothing after the last spine ends, and every spine ended.
Every field of a **kern spine must be a kern note, rest or chord (`4.cc#`, `8r`, `2A- 2c`), a
null token (`.`) or a bar line. For the form figures it also gives, per kern spine when no spine
splits, the stated key, the bars' lengths against the meter and the last note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

_NOTE = re.compile(
    r"^[&({\[<>]*[qQ]?(?P<recip>\d+(?:%\d+)?\.*)?[qQ]?"
    r"(?:(?P<pitch>([a-gA-G])\3*)(?P<acc>#{1,3}|-{1,3}|n)?|r{1,2})"
    r"[\]\)}_;'\"~^`LJKkTtMmWwSsRoOxXyYzZvuUqQPp:/\\<>?|$@N&]*$"
)
_STEP = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_MAJOR_BY_SHARPS = [0, 7, 2, 9, 4, 11, 6, 1]  # tonic pitch class of the major key with n sharps
_MAJOR_BY_FLATS = [0, 5, 10, 3, 8, 1, 6, 11]


@dataclass
class Spine:
    """One **kern column, read when the file never splits a spine."""

    tonics: set[int] = field(default_factory=set)  # stated key: one tonic, or major/minor
    bars: list[tuple[Fraction, Fraction | None]] = field(default_factory=list)
    open_bar: Fraction = Fraction(0)
    meter: Fraction | None = None
    last_pitch: int | None = None
    repeats: int = 0  # bar lines with a repeat sign (`=:|!`, `=!|:`)


@dataclass
class KernFile:
    problems: list[str] = field(default_factory=list)
    spines: list[Spine] = field(default_factory=list)  # empty when spines split or join


def _next_spines(kinds: list[str], fields: list[str]) -> list[str]:
    """The spine kinds after an interpretation record with manipulators."""
    out: list[str] = []
    i = 0
    while i < len(fields):
        f = fields[i]
        if f == "*^":
            out += [kinds[i], kinds[i]]
        elif f == "*v":
            j = i
            while j + 1 < len(fields) and fields[j + 1] == "*v":
                j += 1
            out.append(kinds[i])
            i = j
        elif f == "*+":
            out += [kinds[i], "?"]
        elif f == "*x" and i + 1 < len(fields) and fields[i + 1] == "*x":
            out += [kinds[i + 1], kinds[i]]
            i += 1
        elif f != "*-":
            out.append(f[2:] if f.startswith("**") else kinds[i])
        i += 1
    return out


def _record_kind(fields: list[str]) -> str | None:
    """ "*", "=", "!" or "data" when every field agrees; None for a mixed record."""
    for mark in ("*", "=", "!"):
        hits = sum(f.startswith(mark) for f in fields)
        if hits == len(fields):
            return mark
        if hits and mark != "=":
            return None
    return None if any(f.startswith("=") for f in fields) else "data"


def kern_duration(recip: str | None) -> Fraction:
    """A kern duration (`4`, `8.`, `0`, `3%2`) in whole notes."""
    if not recip:
        return Fraction(0)
    body, dots = recip.rstrip("."), len(recip) - len(recip.rstrip("."))
    num, _, den = body.partition("%")
    # 0 is a breve, 00 a long; n%m lasts m/n
    base = Fraction(2 ** len(num)) if int(num) == 0 else Fraction(int(den or 1), int(num))
    return base * (2 - Fraction(1, 2**dots))


def kern_midi(letters: str, acc: str | None) -> int:
    step = _STEP[letters[0].lower()]
    octave = 4 + len(letters) - 1 if letters[0].islower() else 3 - (len(letters) - 1)
    shift = {"#": 1, "-": -1}.get((acc or "n")[0], 0) * len(acc or "")
    return 12 * (octave + 1) + step + shift


def _tonics(token: str) -> set[int] | None:
    """The tonic(s) a key interpretation states: `*G:`/`*e-:` one; `*k[f#]` the major key and
    its relative minor (a signature alone does not say which)."""
    m = re.match(r"^\*([A-Ga-g])([#-]?):", token)
    if m:
        return {(_STEP[m[1].lower()] + {"#": 1, "-": -1, "": 0}[m[2]]) % 12}
    m = re.match(r"^\*k\[(.*)\]$", token)
    if m:
        sharps, flats = m[1].count("#"), m[1].count("-")
        major = _MAJOR_BY_SHARPS[sharps % 8] if sharps else _MAJOR_BY_FLATS[flats % 8]
        return {major, (major + 9) % 12}
    return None


def _interpret(spine: Spine, token: str) -> None:
    tonics = _tonics(token)
    if tonics is not None and (len(tonics) == 1 or not spine.tonics or len(spine.tonics) == 2):
        spine.tonics = tonics
    m = re.match(r"^\*M(\d+)/(\d+)$", token)
    if m and int(m[2]):
        spine.meter = Fraction(int(m[1]), int(m[2]))


def _note(spine: Spine, token: str, where: str, problems: list[str]) -> None:
    if token == ".":
        return
    durations = []
    for sub in token.split(" "):
        m = _NOTE.match(sub)
        if not m:
            problems.append(f"{where}: {sub[:20]!r} is not a **kern note or rest")
            return
        durations.append(kern_duration(m["recip"]))
        if m["pitch"]:
            spine.last_pitch = kern_midi(m["pitch"], m["acc"])
    spine.open_bar += durations[0]


def _bar(spine: Spine, token: str = "") -> None:
    spine.repeats += ":" in token
    if spine.open_bar:
        spine.bars.append((spine.open_bar, spine.meter))
    spine.open_bar = Fraction(0)


def read_kern(text: str) -> KernFile:
    """Structure, tokens and per-spine figures of a Humdrum file's text."""
    reader = _KernReader()
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("!!") or (not line.strip() and not reader.kinds):
            continue  # global comments; blank lines before the first or after the last spine
        if not reader.record(n, line.split("\t")):
            break
    out = reader.out
    if reader.kinds:
        out.problems.append("the spines are not ended with *-")
    elif reader.kinds is None:
        out.problems.append("no exclusive interpretation (**kern)")
    for spine in reader.cols:
        _bar(spine)
    if not reader.split and reader.kinds is not None:
        out.spines = [c for c, k in zip(reader.cols, _first(text), strict=False) if k]
    return out


class _KernReader:
    def __init__(self) -> None:
        self.out = KernFile()
        self.kinds: list[str] | None = None  # the open spines' kinds; None before **
        self.cols: list[Spine] = []
        self.split = False

    def record(self, n: int, fields: list[str]) -> bool:
        """Read one record; False when reading must stop."""
        problems = self.out.problems
        if self.kinds is None:
            if not all(f.startswith("**") for f in fields):
                problems.append(f"line {n}: no exclusive interpretation (**kern) first")
                return False
            self.kinds, self.cols = [f[2:] for f in fields], [Spine() for _ in fields]
        elif not self.kinds:
            problems.append(f"line {n}: a record after every spine has ended")
            return False
        elif len(fields) != len(self.kinds):
            problems.append(f"line {n}: {len(fields)} fields, {len(self.kinds)} spines open")
        else:
            self.fields(n, fields)
        return True

    def fields(self, n: int, fields: list[str]) -> None:
        kind, kinds = _record_kind(fields), self.kinds or []
        if kind is None:
            self.out.problems.append(f"line {n}: interpretations, bar lines or comments mixed")
        elif kind == "*":
            new = _next_spines(kinds, fields)
            manipulated = any(f in ("*^", "*v", "*+", "*x") for f in fields)
            self.split = self.split or manipulated
            for spine, f in zip(self.cols, fields, strict=False):
                _interpret(spine, f)
            self.kinds = new
        elif kind == "=":
            for spine, f in zip(self.cols, fields, strict=False):
                _bar(spine, f)
        elif kind == "data":
            for spine, kind_of, f in zip(self.cols, kinds, fields, strict=False):
                if kind_of == "kern":
                    _note(spine, f, f"line {n}", self.out.problems)


def _first(text: str) -> list[bool]:
    """Which columns of the first exclusive-interpretation record are **kern."""
    for line in text.splitlines():
        if line.startswith("**"):
            return [f == "**kern" for f in line.split("\t")]
    return []
