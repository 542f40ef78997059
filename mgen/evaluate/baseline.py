"""The corpus side of every figure: the same measurement on real pieces, so a number has a scale.

Statistics and shares are the reference pieces' own; a divergence compares the reference's odd
pieces with its even ones (how far two halves of one corpus differ); the classifier tells the odd
pieces from the even ones (about 50% when it works); validity and form come from judging the
reference files with the samples' checks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mgen.evaluate import classify, form, metrics, voices
from mgen.evaluate.notes import Score
from mgen.evaluate.validity import Unit


def histogram(pieces: list[Score], by_key: bool = False) -> np.ndarray:
    """[12] pitch-class counts summed over pieces (each rotated to one key if `by_key`)."""
    counts = [metrics.pitch_class_counts(p) for p in pieces]
    if by_key:
        counts = [metrics.key_normalized(c) for c in counts]
    return np.sum(counts, axis=0)


def mean_stats(pieces: list[Score]) -> dict[str, float]:
    stats = [metrics.piece_stats(p) for p in pieces]
    return {k: float(np.mean([s[k] for s in stats])) for k in metrics.STAT_NAMES}


def repetition(pieces: list[Score]) -> dict[str, Any]:
    periods = {p.name: metrics.tail_period(p.melody()) for p in pieces}
    looping = {name: per for name, per in periods.items() if per is not None}
    stuck = [p.name for p in pieces if metrics.is_stuck(p, periods[p.name])]
    return {
        "stuck": len(stuck),
        "stuck_share": len(stuck) / len(pieces),
        "stuck_pieces": stuck,
        "looping": len(looping),
        "looping_share": len(looping) / len(pieces),
        "looping_pieces": [{"piece": name, "period": per} for name, per in looping.items()],
        "rule": f"looping: the last half (>= {metrics.STUCK_TAIL} notes) of the top line repeats "
        f"a cycle >= 3 times; stuck: looping with a cycle of <= {metrics.STUCK_PERIOD} notes, or "
        f"one note held for half of a piece of >= {metrics.HELD_BARS} bars",
    }


def divergences(a: list[Score], b: list[Score], form_a: dict, form_b: dict) -> dict[str, float]:
    """Pitch-class (absolute and in C/Am), interval and duration JSD between two piece sets."""
    return {
        "pitch_class_jsd": metrics.js_divergence(histogram(a), histogram(b)),
        "pitch_class_jsd_key": metrics.js_divergence(histogram(a, True), histogram(b, True)),
        "interval_jsd": metrics.js_divergence(form_a["intervals"], form_b["intervals"]),
        "duration_jsd": metrics.js_divergence(form_a["durations"], form_b["durations"]),
    }


def unit_facts(units: list[Unit]) -> dict[str, dict[str, Any]]:
    return {u.name: u.form for u in units}


def corpus_figures(pieces: list[Score], units: list[Unit]) -> dict[str, Any]:
    """Every corpus-side figure of a reference: its own and its halves against each other."""
    odd, even = pieces[1::2], pieces[::2]
    facts = unit_facts(units)
    whole = form.piece_form(pieces, facts)
    halves = (form.piece_form(odd, facts), form.piece_form(even, facts)) if odd else None
    valid = [not u.errors for u in units]
    figures = {
        "stats": mean_stats(pieces),
        "repetition": {k: v for k, v in repetition(pieces).items() if k.endswith("share")},
        "form": whole,
        "divergence": divergences(odd, even, *halves) if halves else None,
        "validity": sum(valid) / len(valid) if valid else None,
        "units": len(units),
        "distinguish": classify.distinguish(odd, even),
    }
    in_voices = voices.corpus_voices(pieces)  # music in voices: each voice, crossings, parallels
    if in_voices is not None:
        figures["voices"] = in_voices
    return figures
