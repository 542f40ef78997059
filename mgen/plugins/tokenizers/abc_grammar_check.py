"""What the abc-char grammar (mgen.plugins.tokenizers.abc_grammar) asks of a tune beyond the
strict judge (`mgen.formats.abc.check`): the rules of issue 27 that the judge does not check.
A tune the judge accepts and that keeps these, the grammar accepts character by character
(tests/test_grammar.py; the whole corpus in tools/grammar_bench.py).

- a short bar inside the tune only where the judge's rule lets one be (first, last, beside a
  repeat sign, ending or double bar line, after a phrase's line end, two that make one): the
  judge reads a bar's opening and closing bar lines together, so that `|` and `|` make the `||`
  of a double bar and every short bar between plain bar lines passes;
- a broken rhythm between events of one length (abc2midi refuses `A2>B`);
- a hornpipe (`R:hornpipe`, as abc2midi reads it) in 2/4 or 4/4 (abc2midi: "Hornpipe must be
  in 2/4 or 4/4 time");
- a tie joins two notes of the same pitch (no rest is tied: abc2midi finds no note before it);
- a tie written apart from its note follows a rest, a broken rhythm or a chord (`z2-`, `A>-A`,
  `[CE]-`), not a note after a space or a grace note;
- repeats balanced: `|:` closed by `:|`, a first ending by `:|` and a second ending;
- no tuplet starts again before one note of it;
- text in quotes that abc2midi reads: a chord name, a fingering, an annotation (`values.quote_ok`);
- a decoration letter followed by what it decorates (a note, rest, chord, decoration);
- fields the grammar writes (not P:, V:), with values from its sets (`abc_grammar_values`);
- a final bar line, unless the tune's lines end without bar lines (Essen's style, where the
  judge takes the line end of a complete bar for one).
"""

from __future__ import annotations

from fractions import Fraction

from mgen.formats.abc.music import FIELD_LINE, split_header
from mgen.formats.abc.read import _TOKEN, Bar, Tune, _header, _read_line, _Reader
from mgen.plugins.tokenizers import abc_grammar_time as tm
from mgen.plugins.tokenizers import abc_grammar_values as values


class _Strict(_Reader):
    """The judge's reader, noting the ties and tuplets the grammar refuses."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.found: set[str] = set()
        self.barred: list[bool] = []  # for each line end: right after a bar line
        self.before: Fraction | None = None  # the event before a broken rhythm: its length

    def advance(self, written, top, tie) -> None:
        if self.tied is not None and top is not None and top != self.tied:
            self.found.add("a tie to another pitch")
        length = written * self.unit * (self.tuplet[1] if self.tuplet[0] else 1)
        if self.before is not None and length != self.before:
            self.found.add("a broken rhythm between events of unequal length (abc2midi)")
        self.before = None
        super().advance(written, top, tie)

    def broken_rhythm(self, sign: str) -> None:
        self.before = self.last[1] if self.last is not None else None
        super().broken_rhythm(sign)

    def start_tuplet(self, text: str) -> None:
        if self.tuplet[0]:
            self.found.add("a tuplet inside a tuplet")
        super().start_tuplet(text)

    def line_end(self, line: int) -> None:
        self.barred.append(self.time == self.bar_start and bool(self.tune.bars))
        super().line_end(line)


def beyond_judge(text: str) -> list[str]:
    """The grammar's rules (above) that a tune's text breaks, one line each."""
    tune = Tune()
    header, body = split_header(text)
    key, unit, meter = _header(tune, header)
    reader = _Strict(tune, key, unit, meter)
    for n, line in body:
        m = FIELD_LINE.match(line)
        if m and not line.startswith("|"):
            reader.field(m[1], m[2], n)
        else:
            _read_line(reader, line, n)
    if reader.time > reader.bar_start:
        reader.bar("", body[-1][0] if body else 0)
    barred = bool(tune.bars) and tune.bars[-1].closing not in ("", "\n")
    if not barred and any(reader.barred[:-1]):  # (the last line's end is the tune's)
        reader.found.add("no final bar line, though its lines end with bar lines")
    found = sorted(reader.found) + _lexed(body) + _fields(text) + _hornpipe(header)
    if any(not _short_ok(tune.bars, i) for i in _short(tune.bars)):
        found.append("a short bar inside the tune")
    return found


def _fields(text: str) -> list[str]:
    """Fields (lines, and inline by the judge's lexer) the grammar does not write, or values
    outside its sets."""
    fields = []
    for line in text.splitlines()[1:]:  # after X:1
        m = FIELD_LINE.match(line)
        if m and not line.startswith("|"):
            fields.append((m[1], m[2]))
        else:
            fields += [(t[1], t[3:-1]) for t in _tokens(line, "field")]
    for name, value in fields:
        if name not in values.MOST or (
            name in values.VALUED and value not in values.trie(name).whole
        ):
            return [f"a field the grammar does not write ({name}:{value.strip()[:12]})"]
    return []


def _hornpipe(header: list[str]) -> list[str]:
    """A hornpipe in another meter than 2/4 or 4/4 (abc2midi's check at the header's end)."""
    fields: dict[str, str] = {}
    for line in header:
        m = FIELD_LINE.match(line)
        if m:
            fields.setdefault(m[1], m[2])
    if values.hornpipe(fields.get("R", "")) and not values.hornpipe_meter(fields.get("M", "4/4")):
        return ["a hornpipe not in 2/4 or 4/4 (abc2midi)"]
    return []


def _short(bars: list[Bar]) -> list[int]:
    return [i for i, b in enumerate(bars) if b.meter is not None and b.duration < b.meter]


def _short_ok(bars: list[Bar], i: int) -> bool:
    """The judge's rule for a short bar, with its bar lines read one by one."""
    bar = bars[i]
    if i in (0, len(bars) - 1) or bars[i - 1].closing == "\n":
        return True
    if tm.excuses(bar.opening) or tm.excuses(bar.closing):
        return True
    return any(bars[j].meter == bar.meter and bars[j].duration + bar.duration == bar.meter
               for j in (i - 1, i + 1) if 0 <= j < len(bars))  # fmt: skip


def _tokens(line: str, kind: str) -> list[str]:
    return [m.group() for m in _TOKEN.finditer(line) if m.lastgroup == kind]


def _lexed(body: list[tuple[int, str]]) -> list[str]:
    """Repeats, and ties written apart, by the judge's lexer."""
    found, rep, last, broken = set(), tm.NO_REPEATS, "", False
    for _, line in body:
        if FIELD_LINE.match(line) and not line.startswith("|"):
            continue
        mark = ""
        for m in _TOKEN.finditer(line):
            kind = m.lastgroup
            if mark and not _decorated(mark, kind, m.group()):
                found.add("a decoration with no note after it (abc2midi's malformed note)")
            mark = m.group() if kind == "mark" else ""
            if kind == "bar":
                rep = None if rep is None else tm.repeat(rep, m.group())
                last = ""
            elif kind == "text" and not values.quote_ok(m.group()[1:-1]):
                found.add("a quote abc2midi cannot read (no chord name, fingering or annotation)")
            elif kind == "tie" and last == "rest":
                found.add("a tied rest (abc2midi finds no note before the tie)")
            elif kind == "tie" and not broken:
                found.add("a tie written apart from its note")
            elif kind in ("note", "rest", "chord"):
                last, broken = kind, False
                rep = rep and (*rep[:3], True)  # a second ending holds an event
            broken = broken or kind == "broken"
        if mark:
            found.add("a decoration with no note after it (abc2midi's malformed note)")
    if not rep or not tm.repeats_closed(rep):
        found.add("unbalanced repeats")
    return sorted(found)


def _decorated(mark: str, kind: str | None, text: str) -> bool:
    """Whether abc2midi takes the token after the decoration `mark`: a note, rest, chord or
    another decoration (a slur after `.`)."""
    return kind in ("note", "rest", "chord", "mark") or (mark == "." and text == "(")
