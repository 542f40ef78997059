"""Reading one ABC tune strictly: notes with durations, bars and what is not ABC music.

`read_tune(text)` lexes every character of the body (ABC 2.1: notes, chords, rests, bar lines,
tuplets, broken rhythm, ties, grace notes, decorations, chord symbols, inline fields, overlays)
and keeps what it could not account for as problems; the judge (`mgen.formats.abc.check`) builds
its strict validity check and its form figures on it. Pitches as `abc_music` reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

from mgen.formats.abc.music import (
    FIELD_LINE,
    Key,
    length,
    parse_key,
    parse_meter,
    parse_unit,
    pitch,
    split_header,
)
from mgen.formats.score import DEFAULT_TEMPO, DEFAULT_VELOCITY, Score, Track

# -- the lexer --------------------------------------------------------------------------------

_NOTE_RE = r"(?:\^\^|\^|__|_|=)?[A-Ga-g][,']*\d*/*\d*"
_TOKEN = re.compile(
    r"(?P<space>[ \t]+)"
    r"|(?P<field>\[[A-Za-z]:[^\]\n]*\])"
    r"|(?P<text>\"[^\"\n]*\")"
    r"|(?P<deco>![^!\n ]+!|\+[^+\n ]+\+)"
    r"|(?P<grace>\{/?(?:\s*" + _NOTE_RE + r")+\s*\})"
    r"|(?P<chord>\[(?:\s*" + _NOTE_RE + r"-?)+\s*\]\d*/*\d*-?)"
    r"|(?P<bar>:*\.?\[?\|[\]|]*:*(?:\[?[1-9][0-9,\-]*)?|::+|\[[1-9][0-9,\-]*|\[\|)"
    r"|(?P<note>" + _NOTE_RE + r"-?)"
    r"|(?P<rest>[zx]\d*/*\d*)"
    r"|(?P<mrest>[ZX]\d*)"
    r"|(?P<tuplet>\([2-9](?::\d*)?(?::\d*)?)"
    r"|(?P<slur>[()])"
    r"|(?P<broken>[<>]{1,3})"
    r"|(?P<tie>-)"
    r"|(?P<mark>[.~H-Wh-wy`])"  # H-W, h-w: symbols a U: field may define
    r"|(?P<overlay>&)"
    r"|(?P<cont>\\$)"
)
_NOTE_PARTS = re.compile(r"(\^\^|\^|__|_|=)?([A-Ga-g])([,']*)(\d*/*\d*)")


@dataclass
class Bar:
    """One bar as written: its duration (whole notes), meter, the bar lines around it."""

    duration: Fraction
    meter: Fraction | None
    opening: str
    closing: str  # "" when the bar ends the tune without a bar line, "\n" at an implicit one
    line: int
    rest_tail: Fraction = Fraction(0)  # how long the rests that end the bar last


@dataclass
class Tune:
    """What `read_tune` found: header fields, notes (MIDI pitch, onset and duration in whole
    notes, chords by their top note), bars, repeat signs and every problem, one line each."""

    fields: dict[str, str] = field(default_factory=dict)
    key: Key | None = None
    meter: Fraction | None = None
    notes: list[tuple[int, Fraction, Fraction]] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    repeats: int = 0
    problems: list[str] = field(default_factory=list)
    ends_with_bar: bool = False


def _tuplet_q(p: int, meter: Fraction | None) -> int:
    if p in (2, 4, 8):
        return 3
    if p in (3, 6):
        return 2
    compound = meter is not None and meter.numerator % 3 == 0 and meter.numerator > 3
    return 3 if compound else 2


class _Reader:
    """The state of reading one tune's body, token by token."""

    def __init__(self, tune: Tune, key: Key, unit: Fraction, meter: Fraction | None):
        self.tune, self.key, self.unit, self.meter = tune, key, unit, meter
        self.time = self.bar_start = Fraction(0)
        self.bar_acc: dict[str, int] = {}
        self.opening, self.voice_end, self.multirest = "", None, 0
        self.rest_tail = Fraction(0)
        self.tuplet: tuple[int, Fraction] = (0, Fraction(1))
        self.broken = Fraction(1)  # factor for the next note (after `>` or `<`)
        self.last: tuple[int | None, Fraction] | None = None  # (notes index, duration)
        self.tied: int | None = None  # pitch a tie carries into the next note

    # -- time -------------------------------------------------------------------------------
    def advance(self, written: Fraction, top: int | None, tie: bool) -> None:
        """A note, chord (top pitch) or rest (None) of `written` unit lengths."""
        dur = written * self.unit * self.broken
        self.broken = Fraction(1)
        if self.tuplet[0]:
            dur *= self.tuplet[1]
            self.tuplet = (self.tuplet[0] - 1, self.tuplet[1])
        index = None
        notes = self.tune.notes
        if top is not None and self.tied == top and notes and notes[-1][0] == top:
            p, on, d = notes[-1]
            notes[-1] = (p, on, d + dur)  # a tied note continues the one before
            index = len(notes) - 1
        elif top is not None:
            notes.append((top, self.time, dur))
            index = len(notes) - 1
        self.tied = top if tie and top is not None else None
        self.last = (index, dur)
        self.time += dur
        self.rest_tail = self.rest_tail + dur if top is None else Fraction(0)

    def broken_rhythm(self, sign: str) -> None:
        if self.last is None:
            self.tune.problems.append(f"broken rhythm {sign} follows no note")
            return
        n = len(sign)
        short = Fraction(1, 2**n)
        first, second = (2 - short, short) if sign[0] == ">" else (short, 2 - short)
        index, dur = self.last
        self.time += dur * (first - 1)
        if index is not None:
            p, on, d = self.tune.notes[index]
            self.tune.notes[index] = (p, on, d + dur * (first - 1))
        self.broken = second

    # -- bars -------------------------------------------------------------------------------
    def bar(self, text: str, line: int) -> None:
        dur = self.time - self.bar_start
        if self.voice_end is not None:
            dur = max(dur, self.voice_end - self.bar_start)
            self.time = self.bar_start + dur
        if ":" in text:
            self.tune.repeats += 1
        if dur > 0 or text == "\n":
            if dur > 0:
                n = max(self.multirest, 1)
                bar = Bar(dur / n, self.meter, self.opening, text, line, self.rest_tail)
                self.tune.bars.append(bar)
            self.opening = "" if text == "\n" else text
        else:
            self.opening += text
        if text != "\n":  # an implicit bar line at a line end keeps the accidentals, as
            self.bar_acc = {}  # abc2midi and music21 do: neither knows it is one
        self.bar_start, self.voice_end, self.multirest = self.time, None, 0
        self.rest_tail = Fraction(0)

    def line_end(self, line: int) -> None:
        """A line that ends without a bar line closes a bar that is already full (Essen's ABC
        leaves the bar line out at line ends); a shorter one goes on into the next line."""
        dur = self.time - self.bar_start
        if dur > 0 and (self.meter is None or dur >= self.meter):
            self.bar("\n", line)

    def overlay(self) -> None:
        self.voice_end = self.time
        self.time = self.bar_start

    # -- tokens -----------------------------------------------------------------------------
    def token(self, kind: str, text: str, line: int) -> None:
        if kind == "note":
            acc, letter, octave, size = _NOTE_PARTS.match(text).groups()
            top = pitch(acc or "", letter, octave, self.key, self.bar_acc)
            self.advance(length(size), top, text.endswith("-"))
        elif kind == "chord":
            self.chord(text)
        elif kind == "rest":
            self.advance(length(text[1:]), None, False)
        elif kind == "mrest":
            self.multirest = int(text[1:] or 1)
            if self.meter is not None:
                self.time += self.meter * self.multirest
        elif kind == "bar":
            self.bar(text, line)
        elif kind == "tuplet":
            self.start_tuplet(text)
        elif kind == "broken":
            self.broken_rhythm(text)
        elif kind == "tie":
            self.tied = self.tune.notes[-1][0] if self.tune.notes and self.last else None
        elif kind == "field":
            self.field(text[1], text[3:-1], line)
        elif kind == "overlay":
            self.overlay()

    def chord(self, text: str) -> None:
        inner, _, outer = text[1:].rpartition("]")
        parts = _NOTE_PARTS.findall(inner)
        pitches = [pitch(a, letter, o, self.key, self.bar_acc) for a, letter, o, _ in parts]
        self.advance(length(parts[0][3]) * length(outer.rstrip("-")), max(pitches),
                     text.endswith("-"))  # fmt: skip

    def start_tuplet(self, text: str) -> None:
        nums = text[1:].split(":")
        p = int(nums[0])
        q = int(nums[1]) if len(nums) > 1 and nums[1] else _tuplet_q(p, self.meter)
        r = int(nums[2]) if len(nums) > 2 and nums[2] else p
        self.tuplet = (r, Fraction(q, p))

    def field(self, name: str, value: str, line: int) -> None:
        """A field inside the body (a line or `[K:...]`): key, meter and unit changes count."""
        if name == "K":
            key = parse_key(value)
            if key is None:
                self.tune.problems.append(f"line {line}: unknown key K:{value}")
            self.key = key or self.key
        elif name == "M":
            meter = parse_meter(value)
            if meter == "?":
                self.tune.problems.append(f"line {line}: unreadable meter M:{value}")
            else:
                self.meter = meter  # type: ignore[assignment]
        elif name == "L":
            self.unit = parse_unit(value) or self.unit
        elif name == "V":
            self.time = self.bar_start = Fraction(0)  # another voice starts again


def _header(tune: Tune, header: list[str]) -> tuple[Key, Fraction, Fraction | None]:
    """Read the header fields into `tune`; the key, unit and meter the body starts with."""
    for line in header:
        m = FIELD_LINE.match(line)
        if not m:
            tune.problems.append(f"header line {line[:30]!r} is not a field")
        elif m[1] not in tune.fields:
            tune.fields[m[1]] = m[2].strip()
    for name, what in (("X", "reference number"), ("T", "title"), ("M", "meter"), ("K", "key")):
        if name not in tune.fields:
            tune.problems.append(f"no {name}: ({what}) field")
    key = parse_key(tune.fields.get("K", "C"))
    meter = parse_meter(tune.fields.get("M", "none"))
    if key is None:
        tune.problems.append(f"unknown key K:{tune.fields['K']}")
    if meter == "?":
        tune.problems.append(f"unreadable meter M:{tune.fields['M']}")
    meter = None if meter == "?" else meter
    if "L" in tune.fields:
        unit = parse_unit(tune.fields["L"])
        if unit is None:
            tune.problems.append(f"unreadable unit length L:{tune.fields['L']}")
    else:
        unit = Fraction(1, 16) if meter is not None and meter < Fraction(3, 4) else Fraction(1, 8)
    return key or Key(0, {}), unit or Fraction(1, 8), meter  # type: ignore[return-value]


def read_tune(text: str) -> Tune:
    """Everything `Tune` holds about one tune's text (headers, then the body after `K:`)."""
    tune = Tune()
    header, body = split_header(text)
    key, unit, meter = _header(tune, header)
    tune.key, tune.meter = key, meter
    reader = _Reader(tune, key, unit, meter)
    for n, line in body:
        m = FIELD_LINE.match(line)
        if m and not line.startswith("|"):
            reader.field(m[1], m[2], n)
            continue
        _read_line(reader, line, n)
    last = reader.time - reader.bar_start
    if last > 0:
        reader.bar("", body[-1][0] if body else 0)
    tune.ends_with_bar = bool(tune.bars) and tune.bars[-1].closing not in ("", "\n")
    if not tune.notes:
        tune.problems.append("no notes")
    return tune


_TEMPO = re.compile(r"(\d+)/(\d+)\s*=\s*(\d+)")


def tune_score(text: str, name: str = "") -> Score:
    """One tune's notes as a one-track score, read by `read_tune` (no music21: fast enough to
    read a tune after every few characters of it): chords by their top note, tied notes once,
    at its `Q:` tempo (quarter notes a minute; 120 without one), its meter from beat 0."""
    tune = read_tune(text)
    whole = 4  # quarter notes in a whole note: `read_tune` times notes in whole notes
    notes = [(p, float(on * whole), float(d * whole)) for p, on, d in tune.notes if d > 0]
    track = Track(pitch=[n[0] for n in notes], onset=[n[1] for n in notes],
                  duration=[n[2] for n in notes], velocity=[DEFAULT_VELOCITY] * len(notes))  # fmt: skip
    q = _TEMPO.search(tune.fields.get("Q", ""))
    bpm = float(q[3]) * whole * int(q[1]) / max(int(q[2]), 1) if q else DEFAULT_TEMPO
    meters = []
    if tune.meter:
        meters = [[0.0, float(tune.meter.numerator), float(tune.meter.denominator)]]
    return Score(name, [track], tempos=[[0.0, bpm]], meters=meters, fmt="abc", source=text)


def _read_line(reader: _Reader, line: str, n: int) -> None:
    pos, bad, ended = 0, [], False
    for m in _TOKEN.finditer(line):
        if m.start() > pos:
            bad.append(line[pos : m.start()])
        pos = m.end()
        if m.lastgroup == "cont":
            ended = True  # a `\` at the end: the line goes on
        elif m.lastgroup != "space":
            reader.token(m.lastgroup or "", m.group(), n)
    if pos < len(line):
        bad.append(line[pos:])
    if bad:
        shown = " ".join(repr(b) for b in bad[:3])
        reader.tune.problems.append(f"line {n}: not ABC music: {shown}")
    if not ended and line.strip():
        reader.line_end(n)
