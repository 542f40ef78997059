"""A score's repeats written out, fast: music21 finds the order of the bars, mgen moves the notes.

music21's `expandRepeats` deep-copies every note of every repeated bar: 8 CPU-seconds for one
Beethoven scherzo (op. 59 no. 2/iii). Here music21's expander runs on the first part's bars with
their notes taken out (barlines, voltas, da capo and segno marks are all it needs), which gives
the bars' order in a fraction of a second; the notes of the `Score` read from the notated parts are then copied bar
by bar into that order, each part's by its own bars (an encoding's parts may disagree on a bar's
length, and music21 times each part by its own). Every part takes the first part's repeats
(parts of one score share their barlines).
"""

from __future__ import annotations

import numpy as np

from mgen.formats.score import Score, Track, change_map


def bar_order(parsed) -> tuple[list[np.ndarray], np.ndarray] | None:
    """(each part's bars: their start beats and the last one's end; the bars' indices in played
    order); None when the score has no repeats or music21 cannot expand them. Takes the notes out
    of the first part's bars: call it after the notes are read."""
    from music21 import bar, repeat, stream

    parts = list(getattr(parsed, "parts", None) or [parsed])
    marks = parts[0].recurse().getElementsByClass((bar.Repeat, repeat.RepeatExpression))
    measures = list(parts[0].getElementsByClass(stream.Measure))
    if marks.first() is None or not measures:
        return None
    starts = [_bars(p) for p in parts]
    for i, m in enumerate(measures):
        m.id = f"mgen-bar-{i}"
        m.remove(list(m.getElementsByClass(("GeneralNote", "Voice"))))
    try:
        played = parts[0].expandRepeats().getElementsByClass(stream.Measure)
        order = np.array([int(str(m.id).rsplit("-", 1)[1]) for m in played], dtype=np.int64)
    except Exception:  # noqa: BLE001 - music21's ExpanderException and others on odd repeats
        return None
    return starts, order


def _bars(part) -> np.ndarray:
    """The start beat of each bar of a part, and the end of its last."""
    from music21 import stream

    measures = list(part.getElementsByClass(stream.Measure)) or [part]
    last = measures[-1]
    return np.array([float(m.offset) for m in measures] + [last.offset + last.highestTime])


def expanded(score: Score, starts: list[np.ndarray], order: np.ndarray) -> Score:
    """The score with its bars played in `order`: track k's notated at `starts[k]` (where it
    has as many bars as the first part; else at `starts[0]`, as the maps are)."""
    grids = [s if len(s) == len(starts[0]) else starts[0] for s in starts]
    tracks = []
    for k, t in enumerate(score.tracks):
        i, onset, until = _plays(grids[k] if k < len(grids) else starts[0], order, t.onset)
        keep, duration = _tied(onset, t.duration[i], t.pitch[i], until)
        tracks.append(Track(t.name, t.program, t.is_drum, onset[keep], duration[keep],
                            t.pitch[i][keep], t.velocity[i][keep]))  # fmt: skip
    maps = []
    for rows in (score.tempos, score.meters, score.keys):
        i, beats, _ = _plays(starts[0], order, rows[:, 0])
        maps.append(change_map(np.c_[beats, rows[i, 1:]], rows.shape[1]))
    return Score(score.name, tracks, *maps, resolution=score.resolution, fmt=score.fmt,
                 source=score.source)  # fmt: skip


def _tied(onset, duration, pitch, until) -> tuple[np.ndarray, np.ndarray]:
    """(which notes stay, their durations) after a note tied over a bar line into a bar that is
    not played next (a first ending) is cut at its bar's end, and joined to a note of its pitch
    that starts there (as music21 joins ties after expanding: the tie goes into the second
    ending); a note that it is joined to goes."""
    duration, keep = duration.copy(), np.ones(len(onset), dtype=bool)
    over = np.flatnonzero(onset + duration > until + 1e-9)
    if len(over):
        beats = np.round(onset, 6).tolist()
        at = {(o, p): j for j, (o, p) in enumerate(zip(beats, pitch.tolist(), strict=True))}
        for j in over.tolist():
            duration[j] = until[j] - onset[j]
            nxt = at.get((round(float(until[j]), 6), int(pitch[j])))
            if nxt is not None and keep[nxt]:
                duration[j] += duration[nxt]
                keep[nxt] = False
    return keep, duration


def _plays(starts: np.ndarray, order: np.ndarray, beats: np.ndarray):
    """(which event, its played beat, where its play of the bar ends if the next bar played is
    not the next one notated, else inf) for every play of the bar each of `beats` falls in, the
    bars notated at `starts` (the last entry the end) and played in `order`."""
    lengths = np.diff(starts)[order]
    ends = np.cumsum(lengths)
    jump = np.r_[order[1:] != order[:-1] + 1, False]  # the last bar played ends nothing
    until = np.where(jump, ends, np.inf)
    shifts = np.r_[0.0, ends[:-1]] - starts[order]  # notated -> played beat
    by_bar = np.argsort(order, kind="stable")  # the plays of each bar, together, in order
    plays = np.bincount(order, minlength=len(starts) - 1)
    first = np.r_[0, np.cumsum(plays)[:-1]]
    bar_of = np.clip(np.searchsorted(starts, beats, side="right") - 1, 0, len(plays) - 1)
    times = plays[bar_of]
    which = np.repeat(np.arange(len(beats)), times)
    nth = np.arange(len(which)) - np.repeat(np.cumsum(times) - times, times)
    play = by_bar[first[bar_of[which]] + nth]
    return which, beats[which] + shifts[play], until[play]
