"""ABC validity that bites: a strict check of its own, music21's complaints, abc2midi's output.

The strict check (`strict_problems`) reads a tune with `abc_read` and requires: the header fields
X:, T:, M: and K: with readable values; every character of the body accounted for as music (notes,
chords, rests, bar lines, decorations, chord symbols, ...); every bar as long as the meter as
written, except a short first or last bar, short bars beside repeat signs, variant endings or
double bar lines, and two short bars that add up to one (a bar split across a line); and a final
bar line, or a last bar that is complete (alone or with the pickup), since Essen's ABC leaves
the final bar line out. music21 reads any letter as a note, so its warnings ("could not get pitch
information") count as errors; abc2midi exits 0 whatever it finds, so its printed "Error" lines
are what count.
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from fractions import Fraction
from pathlib import Path

from mgen.formats.abc.abc2midi import abc2midi as abc2midi  # re-exported: its old home
from mgen.formats.abc.abc2midi import error_lines
from mgen.formats.abc.read import Bar, Tune, read_tune
from mgen.formats.abc.tunes import read_text
from mgen.formats.abc.tunes import tune_texts as tune_texts  # re-exported: its old home


def _show(x: Fraction) -> str:
    return f"{x.numerator}/{x.denominator}"


def strict_problems(tune: Tune) -> list[str]:
    """Everything the strict check finds in one tune read by `read_tune`."""
    problems = list(tune.problems) + bar_problems(tune.bars)
    ending = ending_problem(tune)
    return problems + ([ending] if ending else [])


def bar_problems(bars: list[Bar]) -> list[str]:
    """Bars longer than their meter, and short bars where no rule allows one."""
    out = []
    for i, bar in enumerate(bars):
        if bar.meter is None or bar.duration == bar.meter:
            continue
        what = f"bar {i + 1} (line {bar.line}) lasts {_show(bar.duration)}, the meter {_show(bar.meter)}"
        if bar.duration > bar.meter:
            if not long_allowed(bar):
                out.append(what)
        elif not short_allowed(bars, i):
            out.append(what + " (a short bar inside the tune)")
    return out


def long_allowed(bar: Bar) -> bool:
    """A phrase that ends a line (no bar line) with a rest may run over the bar by that rest:
    Essen's ABC marks its phrase ends so."""
    return bar.closing == "\n" and bar.duration - bar.rest_tail <= bar.meter  # type: ignore[operator]


def short_allowed(bars: list[Bar], i: int) -> bool:
    """A short bar is fine first, last, opening a line after a phrase end (a line that ended
    without a bar line), beside a repeat sign, variant ending or double bar line, or when it
    and a short neighbour make one bar."""
    if i in (0, len(bars) - 1) or bars[i - 1].closing == "\n":
        return True
    bar = bars[i]
    marks = bar.opening + bar.closing
    if (
        ":" in marks
        or "[" in marks
        or "]" in marks
        or "||" in marks
        or any(map(str.isdigit, marks))
    ):
        return True
    return any(
        0 <= j < len(bars)
        and bars[j].meter == bar.meter
        and bars[j].duration + bar.duration == bar.meter
        for j in (i - 1, i + 1)
    )


def ending_problem(tune: Tune) -> str | None:
    """None when the tune ends with a bar line or a complete last bar, else why not."""
    if tune.ends_with_bar or not tune.bars:
        return None
    last = tune.bars[-1]
    if last.meter is None or last.duration >= last.meter:
        return None
    if len(tune.bars) > 1 and tune.bars[0].duration + last.duration == last.meter:
        return None  # the pickup and the last bar make one
    return (
        f"ends without a final bar line, in the middle of a bar "
        f"({_show(last.duration)} of {_show(last.meter)})"
    )


def music21_problems(text: str) -> list[str]:
    """What music21 says about one tune: a failure to parse, no notes, or its warnings."""
    from music21 import converter

    out = io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(out):
            warnings.simplefilter("ignore")
            score = converter.parse(text, format="abc")
        notes = len(score.flatten().notes)
    except Exception as e:  # noqa: BLE001 - music21 raises many unrelated types on bad input
        return [f"music21 cannot parse it: {type(e).__name__}"]
    said = sorted({ln.split("WARNING:")[-1].strip() for ln in out.getvalue().splitlines() if ln})
    problems = [f"music21: {s}" for s in said if s]
    return problems + ([] if notes else ["music21 finds no notes"])


def abc2midi_errors(path: Path, tune_lines: list[int]) -> dict[int, list[str]]:
    """abc2midi's "Error" lines for a file (`abc2midi FILE -c`), by the tune they fall in
    (`tune_lines`: the first line of each tune, 1-based, ascending). Needs abc2midi."""
    found: dict[int, list[str]] = {}
    text: list[str] | None = None
    for at, message in error_lines(path):
        if at == 0:  # abc2midi did not run
            found.setdefault(0, []).append(message)
            continue
        text = _lines(path) if text is None else text
        if not _text_tempo_alarm(message, text, at):
            tune = max([i for i, first in enumerate(tune_lines) if first <= at] or [0])
            found.setdefault(tune, []).append(f"abc2midi: line {at}: {message.strip()}")
    return found


#: ABC 2.1's tempo (3.1.8): quoted texts around at most one `beats=speed` (one or more note
#: lengths, or the deprecated `C=`/`C3=` forms) or the deprecated bare speed.
_TEMPO = re.compile(
    r'\s*(?:"[^"]*"\s*)*(?:(?:(?:\d+/\d+\s*)+|C\d*\s*)=\s*\d+\s*|\d+\s*)?(?:"[^"]*"\s*)*'
)
_INLINE_Q = re.compile(r"\[Q:([^\]]*)\]")


def legal_tempo(value: str) -> bool:
    """Whether a `Q:` field's value is a tempo as ABC 2.1 writes it: `"Allegro"`, `"vif"`,
    `"Allegro" 1/4=120`, `1/4=80 "Slow"`, `3/8=50`, ..."""
    value = re.sub(r"(?<!\\)%.*", "", value).strip()
    return bool(value) and _TEMPO.fullmatch(value) is not None


def _text_tempo_alarm(message: str, lines: list[str], at: int) -> bool:
    """abc2midi calls a `Q:` field with a text it does not know ("vif", "Slowly and
    Smoothly"; it knows "Allegro") malformed; ABC 2.1 allows any text, so that is no error."""
    if not message.startswith("malformed Q: field") or not 0 < at <= len(lines):
        return False
    line = lines[at - 1]
    fields = [line[2:]] if line.startswith("Q:") else _INLINE_Q.findall(line)
    return bool(fields) and all(map(legal_tempo, fields))


def _lines(path: Path) -> list[str]:
    try:
        return read_text(Path(path)).splitlines()
    except Exception:  # noqa: BLE001 - abc2midi read it; without its text no alarm is waived
        return []


def read(text: str) -> Tune:
    return read_tune(text)
