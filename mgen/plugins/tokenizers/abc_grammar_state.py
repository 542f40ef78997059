"""One abc-char sample's state in the grammar (mgen.plugins.tokenizers.abc_grammar): where it is
in the tune (header, which token of the body) and what the music so far asks of what comes
next (the time left in the bar, a tie's pitch, a broken rhythm's or a tuplet's factor, open
repeats). The time and bar rules mirror the strict judge's reader (`mgen.formats.abc.read`):
what the grammar lets through, the judge reads the same way.
"""

from __future__ import annotations

import functools
import operator

from mgen.plugins.tokenizers import abc_grammar_time as tm
from mgen.plugins.tokenizers import abc_grammar_values as values

_STEP = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACC = {"^^": 2, "^": 1, "__": -2, "_": -1, "=": 0}
NO_CHORD = (0, 0, -1, -1)
REST_TIE = -1  # a tie after a rest: the next event is a rest too (Essen writes `z2-|z2`)

# Modes: where a sample is. H_*: header, B_*: body.
(H_LINE, H_NAME, H_TEXT, H_VALUE, B_TOKEN, B_NOTE, B_REST, B_CHORD, B_GRACE, B_QUOTE, B_DECO,
 B_BAR, B_BRACKET, B_OPEN, B_TUPLET, B_BROKEN, B_CONT, B_NAME, B_VALUE, ENDED, FREE) = range(21)  # fmt: skip


#: The bar's accidentals so far: (slot, semitones) pairs, sorted (a state is a value).
BarAcc = tuple[tuple[str, int], ...]


#: A key signature: (letter, semitones) pairs, sorted (`abc_grammar_values.signature`).
Signature = tuple[tuple[str, int], ...]


def pitch(acc: str, letter: str, octave: int, key: Signature, bar_acc: BarAcc) -> int:
    """The judge's pitch of a note (`mgen.formats.abc.music.pitch`) without changing `bar_acc`;
    `octave`: apostrophes (+) or commas (-)."""
    upper = letter.upper()
    base = 60 + _STEP[upper] + (12 if letter.islower() else 0) + 12 * octave
    if acc:
        return base + _ACC[acc]
    shift = _as_dict(key).get(upper, 0)
    if bar_acc:
        shift = _as_dict(bar_acc).get(f"{upper}{base // 12}", shift)
    return base + shift


@functools.lru_cache(maxsize=1024)
def _as_dict(pairs: tuple[tuple[str, int], ...]) -> dict[str, int]:
    return dict(pairs)


def slot(letter: str, octave: int) -> str:
    base = 60 + _STEP[letter.upper()] + (12 if letter.islower() else 0) + 12 * octave
    return f"{letter.upper()}{base // 12}"


FIELDS = (
    "mode", "line", "lead", "seen", "field", "value", "header", "meter_t", "unit",
    "key", "t", "owe", "over", "bar_acc", "last", "last_pitch", "broken", "tup", "tie",
    "opening", "bars", "bar0", "prev", "rep", "notes", "essen", "after_bar", "tok",
    "length", "tied", "chord", "count", "mark", "grace", "spaced", "soup", "quoted", "blank",
)  # fmt: skip
_VALUE = operator.attrgetter(*FIELDS)


class Tune:
    """The state, a value: `key` is all of it, `clone` a copy to step. The grammar keeps one
    `Tune` per distinct state and never changes it; `next` and `row` cache its transitions
    (token id -> the state after it) and its mask's row."""

    __slots__ = (*FIELDS, "next", "row")

    def __init__(self) -> None:
        self.mode, self.line, self.lead, self.seen = H_LINE, 0, "", ""
        self.field, self.value = "", ""
        self.header: tuple[tuple[str, str], ...] = ()  # (field, value) of M:, L:, K:
        self.meter_t: int | None = None  # the bar's ticks (None: free meter)
        self.unit, self.key = 0, ()  # the unit length's ticks, the key's signature
        self.t, self.owe, self.over = 0, None, False
        self.bar_acc: BarAcc = ()
        self.last: int | None = None  # ticks of the bar's last event, for broken rhythm
        self.last_pitch: int | None = None  # the last event's pitch (REST_TIE: a rest)
        self.broken: tm.Broken | None = None  # what the next event takes (a broken rhythm)
        self.tup: tuple[int, int, int] | None = None  # (events left, q, p)
        self.tie: int | None = None  # the pitch the next event must have
        self.opening, self.bars, self.bar0 = "", 0, 0
        #: the last bar: closed by a line end; the ticks that would complete it, in its meter
        self.prev: tuple[bool, int | None, int | None] | None = None
        self.rep: tm.Repeats = tm.NO_REPEATS
        self.notes, self.essen = False, True  # essen: may end without `|`
        self.after_bar = ""  # the bar line just written, if the last token was one
        self.tok = ""  # the token being written (a note's spelling, a bar line, ...) so far
        self.length, self.tied = "", False  # the note being written: its length so far, tie
        #: the chord being written: its notes, the first one's ticks, top pitch, top tied pitch
        self.chord: tuple[int, int, int, int] = NO_CHORD
        self.count = 0  # characters of free text, notes of a grace group
        self.mark = ""  # the decoration letter just written, if the last token was one
        self.grace = False  # grace notes wait for their note (abc2midi wants one)
        self.spaced = False  # the last character was a space: the tune does not end so
        self.soup = 0  # decorations, slurs, chord symbols, grace notes in a row (folk-abc: 4)
        self.quoted = False  # a chord symbol waits for its note (music21 gives it the next)
        self.blank = True  # the line holds nothing but spaces so far (a blank line ends a tune)

    def clone(self) -> Tune:
        c = Tune.__new__(Tune)
        (c.mode, c.line, c.lead, c.seen, c.field, c.value, c.header, c.meter_t, c.unit,
         c.key, c.t, c.owe, c.over, c.bar_acc, c.last, c.last_pitch, c.broken, c.tup,
         c.tie, c.opening, c.bars, c.bar0, c.prev, c.rep, c.notes, c.essen,
         c.after_bar, c.tok, c.length, c.tied, c.chord, c.count, c.mark, c.grace, c.spaced, c.soup, c.quoted,
         c.blank) = _VALUE(self)  # fmt: skip
        return c

    def between(self) -> None:
        """Between tokens: forget what no longer matters (so that masks coincide more); a
        `-` of its own comes only after a rest or a broken rhythm."""
        self.tok, self.length, self.tied, self.count = "", "", False, 0
        self.chord, self.field, self.value = NO_CHORD, "", ""
        if self.broken is None and self.last_pitch != REST_TIE:
            self.last_pitch = None

    # -- the header -------------------------------------------------------------------------
    def start_body(self) -> None:
        """The header is complete: the body starts with its meter, unit length and key."""
        h = dict(self.header)
        meter = values.meter(h["M"])
        self.meter_t = None if meter is None else tm.ticks(meter)
        unit = values.unit(h["L"]) if "L" in h else values.default_unit(meter)
        self.unit, self.key = tm.ticks(unit), values.signature(h["K"])
        self.header, self.seen, self.field, self.value = (), "", "", ""  # done with

    def header_done(self) -> bool:
        return all(f in self.seen for f in "TMK")

    # -- time -------------------------------------------------------------------------------
    def room(self) -> int | None:
        """Ticks left in the bar (None: free meter)."""
        if self.meter_t is None:
            return None
        return (self.owe if self.owe is not None else self.meter_t) - self.t

    def scale(self, written: int) -> int:
        """An event's ticks from its written ticks: broken rhythm, then tuplet."""
        d = written if self.broken is None else tm.scaled(written, self.broken)
        if self.tup is not None:
            _, q, p = self.tup
            d = d * q // p
        return d

    def may_overflow(self) -> bool:
        """A rest may run past the bar's end when only a line end will close it (Essen marks
        phrase ends so; the judge allows it)."""
        return (self.meter_t is not None and self.owe is None and self.tup is None
                and self.broken is None and self.tie is None)  # fmt: skip

    def ctx(self) -> tm.Context:
        """What decides which lengths an event may have now (`abc_grammar_time.fits`)."""
        return (self.room(), self.unit, self.broken, self.tup, self.over, self.may_overflow(),
                self.owe is not None)  # fmt: skip

    def event(self, written: int, top: int | None, tie: bool) -> None:
        """A note, chord (its top pitch) or rest (None) of `written` ticks is complete."""
        d = self.scale(written)
        self.broken = None
        if self.tup is not None:
            left, q, p = self.tup
            self.tup = (left - 1, q, p) if left > 1 else None
        self.t += d
        room = self.room()
        self.over = self.over or (room is not None and room < 0)
        self.last, self.last_pitch = d, top if top is not None else REST_TIE
        self.tie = top if tie else None
        self.notes = self.notes or top is not None
        self.grace, self.quoted = self.grace and top is None, False
        if self.rep[1] == 2 and not self.rep[3]:
            self.rep = (self.rep[0], 2, self.rep[2], True)

    def broken_ok(self, sign: str) -> bool:
        """Broken rhythm after the bar's last event: it lengthens (shortens) that event, and
        an event after it, shortened (lengthened), must still fit."""
        if self.last is None or self.broken is not None or self.over:
            return False
        if self.tup is not None and self.tup[0] < 1:
            return False
        gain, second = tm.broken_factors(sign)
        room = self.room()
        if room is None:
            return True
        room -= tm.scaled(self.last, gain)
        ctx = (room, self.unit, (*second, self.last), self.tup, False, False, self.owe is not None)
        return room >= 0 and any(tm.length_options("", ctx, False))

    def take_broken(self, sign: str) -> None:
        gain, second = tm.broken_factors(sign)
        assert self.last is not None
        self.t += tm.scaled(self.last, gain)
        self.broken, self.last = (*second, self.last), None

    def tuplet_ok(self, p: int, q: int, r: int) -> bool:
        if self.broken is not None or self.tup is not None or self.over:
            return False
        return tm.fills(self.room(), self.unit, r, q, p, self.owe is not None)

    # -- bars -------------------------------------------------------------------------------
    def bar_ok(self, token: str) -> bool:
        """Whether a bar-line token may come now (the bar it closes, the repeats)."""
        if tm.repeat(self.rep, token) is None or self.tup is not None or self.broken is not None:
            return False
        if self.t == 0 or self.meter_t is None:
            return True
        if self.over:
            return False
        if self.owe is not None:
            return self.t == self.owe
        if self.t >= self.meter_t:
            return self.t == self.meter_t
        return self._excused(token) or tm.room_ok(self.meter_t - self.t, self.unit)  # else owed

    def take_bar(self, token: str) -> None:
        if self.t > 0:
            self._close(token)
        else:
            self.opening = tm.opening(self.opening + token)
        rep = tm.repeat(self.rep, token)
        assert rep is not None
        self.rep, self.bar_acc, self.after_bar = rep, (), token

    def _close(self, closing: str) -> None:
        """Close the bar (`closing` its bar line, "\n" at a line end): a short bar that no
        rule of the judge excuses owes the next bar its complement."""
        d, meter = self.t, self.meter_t
        if self.owe is not None:
            self.owe = None
        elif meter is not None and d < meter and not self._excused(closing):
            self.owe = meter - d
        if self.bars == 0:  # a short first bar: a pickup, which the last bar may complete
            self.bar0 = d if meter is not None and d < meter else 0
        self.bars = min(self.bars + 1, 2)
        short = meter is not None and d < meter
        self.prev = (closing == "\n", meter - d if short else None, meter)
        self.opening = "" if closing == "\n" else tm.opening(closing)
        self.t, self.over, self.last = 0, False, None

    def _excused(self, closing: str) -> bool:
        prev = self.prev
        if self.bars == 0 or (prev is not None and prev[0]):
            return True
        if self.opening == "X" or tm.excuses(closing):
            return True
        return prev is not None and prev[2] == self.meter_t and prev[1] == self.t

    def line_end(self) -> None:
        """The judge's line end: a full (or, by rests, longer) bar closes without a bar line.
        A line that ends with a bar line marks a tune that ends with one too (not Essen's)."""
        if self.t > 0 and (self.meter_t is None or self.t >= self.meter_t):
            self._close("\n")
        elif self.t == 0 and self.bars:
            self.essen = False
        self.line, self.lead, self.after_bar, self.blank = 0, "", "", True

    # -- fields in the body ------------------------------------------------------------------
    def field_ok(self, name: str, value: str) -> bool:
        """A key may change anywhere; a unit length where the bar stays fillable; a meter only
        between bars."""
        if self.tup is not None or self.broken is not None or self.over:
            return False
        if name == "L":
            room = self.room()
            return room is None or tm.room_ok(
                room, tm.ticks(values.unit(value)), self.owe is not None
            )
        return name == "K" or (self.t == 0 and self.owe is None)

    def take_field(self, name: str, value: str) -> None:
        if name == "K":
            self.key = values.signature(value)
        elif name == "L":
            self.unit = tm.ticks(values.unit(value))
        else:
            meter = values.meter(value)
            self.meter_t = None if meter is None else tm.ticks(meter)

    def may_end(self) -> bool:
        """Whether the tune may end here (at a token's end)."""
        if not self.notes or self.tie is not None or self.broken is not None or self.grace:
            return False
        if self.spaced or self.tup is not None or not tm.repeats_closed(self.rep):
            return False
        if self.t == 0:  # after a bar line, or a line end that closed a bar (Essen's style)
            return self.bars > 0 and (self.essen or not (self.prev and self.prev[0]))
        if not self.essen or self.owe is not None or self.meter_t is None:
            return self.essen and self.owe is None
        return self.t >= self.meter_t or (self.bar0 > 0 and self.bar0 + self.t == self.meter_t)
