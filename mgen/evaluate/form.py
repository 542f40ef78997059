"""Musical form: endings, bar lengths, repeated sections, phrases, interval and duration shapes.

Per piece, from its notes (any format): whether a sequence of `SECTION_BARS` bars of the top line
recurs later unchanged (a repeated section written out); its phrases, cut after a rest or after a
note at least twice as long as the piece's median gap between onsets, measured in bars; its
melodic intervals (semitones, clipped to an octave and beyond either way) and note durations
(powers of two of a beat). Per judged unit, from its text (`validity`): ending on the tonic of the
stated key, the share of inner bars as long as the meter, repeat signs. Every figure is a mean or
share over pieces, so the same figure of held-out corpus pieces is its baseline.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mgen.evaluate.metrics import pitch_class_counts
from mgen.evaluate.notes import Score

SECTION_BARS = 2  # bars in a row that must recur for a section to count as repeated
INTERVAL_BINS = 27  # -13..13: an octave or more lands in the outer bins
DURATION_BINS = 8  # 1/16 beat .. 8 beats, by powers of two


def top_line(piece: Score) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pitch, onset, duration) of the highest note at each onset."""
    if len(piece) == 0:
        return piece.pitch, piece.onset, piece.duration
    last = np.r_[piece.onset[1:] != piece.onset[:-1], True]
    return piece.pitch[last], piece.onset[last], piece.duration[last]


def interval_counts(piece: Score) -> np.ndarray:
    """[27] counts of melodic intervals -13..13 semitones (beyond an octave clipped)."""
    steps = np.clip(np.diff(top_line(piece)[0]), -13, 13) + 13
    return np.bincount(steps, minlength=INTERVAL_BINS).astype(np.float64)


def duration_counts(piece: Score) -> np.ndarray:
    """[8] counts of note durations by powers of two: 1/16 beat and shorter .. 8 beats and longer."""
    d = piece.duration[piece.duration > 0]
    bins = np.clip(np.round(np.log2(d)).astype(np.int64), -4, 3) + 4
    return np.bincount(bins, minlength=DURATION_BINS).astype(np.float64)


def _bars(piece: Score) -> list[tuple]:
    """Each bar of the top line as a hashable tuple of (pitch, position, duration) in 48ths."""
    pitch, onset, dur = top_line(piece)
    index = np.floor(onset / piece.bar_length + 1e-9).astype(np.int64)
    pos = np.round((onset - index * piece.bar_length) * 48).astype(np.int64)
    bars: list[list] = [[] for _ in range(int(index.max()) + 1 if len(index) else 0)]
    for i, p, q, d in zip(index, pitch, pos, np.round(dur * 48).astype(np.int64), strict=True):
        bars[i].append((int(p), int(q), int(d)))
    return [tuple(b) for b in bars]


def recurring_section(piece: Score, span: int = SECTION_BARS) -> bool:
    """Whether `span` consecutive bars with notes recur later, without overlapping."""
    bars = _bars(piece)
    first: dict[tuple, int] = {}
    for i in range(len(bars) - span + 1):
        key = tuple(bars[i : i + span])
        if not all(key):
            continue
        if key in first and i - first[key] >= span:
            return True
        first.setdefault(key, i)
    return False


def phrase_lengths(piece: Score) -> list[float]:
    """Phrase lengths in bars: a phrase ends after a rest or a note at least twice as long as
    the median gap between onsets."""
    _, onset, dur = top_line(piece)
    if len(onset) < 2:
        return []
    gap = np.diff(onset)
    long = gap >= 2 * np.median(gap)
    rest = onset[1:] > onset[:-1] + dur[:-1] + 1e-6
    ends = np.flatnonzero(long | rest)  # a phrase ends after these notes
    starts = np.r_[0, ends + 1]
    stops = np.r_[onset[ends] + dur[ends], onset[-1] + dur[-1]]
    lengths = (stops - onset[starts]) / piece.bar_length
    return [float(x) for x in lengths if x > 0]


def piece_form(pieces: list[Score], units: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The form figures of a set of pieces; `units` holds text facts by piece (or file) name."""
    facts = [units.get(p.name) or units.get(p.name.split("#")[0]) or {} for p in pieces]
    repeated = [
        bool(f.get("repeat_signs")) or recurring_section(p)
        for p, f in zip(pieces, facts, strict=True)
    ]
    phrases = [x for p in pieces for x in phrase_lengths(p)]
    return {
        "ends_on_tonic": _share([f.get("ends_on_tonic") for f in units.values()]),
        "bar_fit": _mean([f.get("bar_fit") for f in units.values()]),
        "repeated_sections": _share(repeated),
        "phrase_bars": float(np.mean(phrases)) if phrases else None,
        "pitch_classes": np.sum([pitch_class_counts(p) for p in pieces], axis=0).tolist(),
        "intervals": np.sum([interval_counts(p) for p in pieces], axis=0).tolist(),
        "durations": np.sum([duration_counts(p) for p in pieces], axis=0).tolist(),
    }


def _share(flags: list[Any]) -> float | None:
    known = [bool(f) for f in flags if f is not None]
    return sum(known) / len(known) if known else None


def _mean(values: list[Any]) -> float | None:
    known = [float(v) for v in values if v is not None]
    return float(np.mean(known)) if known else None
