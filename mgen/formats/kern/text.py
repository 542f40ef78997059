"""Writing **kern (grid events -> one `**kern` spine in its meter, 4/4 unless told, with
barlines and ties), the interval tokens that announce each pitch, and the meter tokens (`M4/2`)
that open a melody.

`Events` are the kern tokenizer's token-level form of a melody, not a note form of their own:
one (pitch or rest, length in grid steps) per pitch token and its length tokens, with the rests
that the tokens spell and the grid the tokens count in. They become notes only as a `Score`
(`events_score`), which is what is written as MIDI.
"""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np

from mgen.formats.score import DEFAULT_VELOCITY, Score, Track

REST = "r"
BAR_QUARTERS = 4  # `write` notates in 4/4 unless the melody's meter token says otherwise
#: A meter as (numerator, denominator): 4/4, 4/2, 3/2, 6/8, ...
Meter = tuple[int, int]
COMMON_TIME: Meter = (4, 4)
_METER = re.compile(r"^M([1-9][0-9]?)/(1|2|4|8|16|32)$")
#: Pitch spellings for C major / A minor, the keys every melody is transposed to.
_NAMES = ("c", "c#", "d", "e-", "e", "f", "f#", "g", "g#", "a", "b-", "b")
#: A melody: (MIDI pitch, or None for a rest; length in grid steps) per event.
Events = list[tuple[int | None, int]]


def meter_token(meter: Meter) -> str:
    return f"M{meter[0]}/{meter[1]}"


def meter_of(token: str) -> Meter | None:
    """(4, 2) for the meter token `M4/2`; None for any other token."""
    m = _METER.match(token)
    return (int(m[1]), int(m[2])) if m else None


def melody_meter(tokens: list[str]) -> Meter:
    """The meter a melody's tokens open with (its first meter token), else 4/4."""
    return next((m for t in tokens if (m := meter_of(t)) is not None), COMMON_TIME)


def bar_quarters(meter: Meter) -> Fraction:
    return Fraction(4 * meter[0], meter[1])


def events_score(
    events: Events, time_step: float, tempo_bpm: float, name: str = "", meter: Meter = COMMON_TIME
) -> Score:
    """The melody's notes as a one-track (piano) score at `tempo_bpm`, in `meter` as written."""
    steps = np.asarray([n for _, n in events], dtype=np.int64)
    start = np.r_[0, np.cumsum(steps)[:-1]] if len(steps) else steps
    sounding = [i for i, (pitch, _) in enumerate(events) if pitch is not None]
    pitch = [events[i][0] for i in sounding]
    track = Track(onset=start[sounding] * time_step, duration=steps[sounding] * time_step,
                  pitch=pitch, velocity=[DEFAULT_VELOCITY] * len(pitch))  # fmt: skip
    return Score(name, [track], tempos=[[0.0, tempo_bpm]],
                 meters=[[0.0, float(meter[0]), float(meter[1])]], fmt="kern")  # fmt: skip


def interval_token(semitones: int) -> str:
    return f"{semitones:+d}"


def is_interval(token: str) -> bool:
    return token[:1] in "+-" and token[1:].isdigit()


def with_intervals(tokens: list[str]) -> list[str]:
    """`tokens` with an interval token before every pitch after the first (any given dropped)."""
    out, last = [], None
    for t in tokens:
        if is_interval(t):
            continue
        if t.isdigit():
            if last is not None:
                out.append(interval_token(int(t) - last))
            last = int(t)
        out.append(t)
    return out


def kern_pitch(midi: int) -> str:
    """MIDI number -> kern pitch: c = middle C (60), cc an octave up, C an octave down."""
    octave, name = divmod(midi, 12)
    octave -= 1
    letter, accidental = _NAMES[name][0], _NAMES[name][1:]
    if octave >= 4:
        return letter * (octave - 3) + accidental
    return letter.upper() * (4 - octave) + accidental


def _duration_table(unit: Fraction) -> list[tuple[Fraction, str]]:
    """Kern durations usable on the grid, longest first: (quarters, reciprocal string)."""
    table = {unit: str(int(4 / unit))}
    for r in (1, 2, 4, 8, 16, 32, 64, 128):
        plain = Fraction(4, r)
        for value, text in ((plain, str(r)), (plain * Fraction(3, 2), f"{r}.")):
            if value <= BAR_QUARTERS and (value / unit).denominator == 1:
                table.setdefault(value, text)
    return sorted(table.items(), reverse=True)


def _split(length: Fraction, table: list[tuple[Fraction, str]]) -> list[str]:
    """Greedy split of a length (a multiple of the grid unit) into kern durations."""
    out = []
    while length > 0:
        value, text = next((v, t) for v, t in table if v <= length)
        out.append(text)
        length -= value
    return out


def kern_text(
    events: Events, time_step: float, tempo_bpm: float, meter: Meter = COMMON_TIME
) -> str:
    """One **kern spine in `meter` with barlines; notes crossing a barline are tied."""
    unit = Fraction(time_step).limit_denominator(128)
    table = _duration_table(unit)
    bar_steps = max(1, int(bar_quarters(meter) / unit))
    lines = ["**kern", f"*M{meter[0]}/{meter[1]}", "*k[]", f"*MM{tempo_bpm:g}"]
    pos, bar = 0, 1
    for pitch, steps in events or [(None, bar_steps)]:
        name = REST if pitch is None else kern_pitch(pitch)
        parts: list[str] = []
        end = pos + steps
        while pos < end:
            if pos and pos % bar_steps == 0:
                bar += 1
                parts.append(f"={bar}")
            chunk = min(end, (pos // bar_steps + 1) * bar_steps) - pos
            parts.extend(d + name for d in _split(chunk * unit, table))
            pos += chunk
        lines.extend(_tie(parts) if pitch is not None else parts)
    return "\n".join([*lines, "==", "*-"]) + "\n"


def _tie(parts: list[str]) -> list[str]:
    """Mark the pieces of one split note with kern ties: `[` start, `_` middle, `]` end."""
    idx = [i for i, p in enumerate(parts) if not p.startswith("=")]
    if len(idx) < 2:
        return parts
    out = list(parts)
    out[idx[0]] = "[" + out[idx[0]]
    for i in idx[1:-1]:
        out[i] += "_"
    out[idx[-1]] += "]"
    return out
