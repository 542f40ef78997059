"""Music in voices: each voice's range and register, voice crossings, parallel fifths and
octaves, and the classifier voice by voice.

A voice is a pitched (non-drum) track of a score with sounding notes: a MIDI track, a music21
part. A piece is "in voices" when it has at least two; a set of pieces is when half of them or
more are (then `mgen eval` adds these figures; single-stream music keeps its tables as they
were). Within a piece the voices are ordered by their median pitch, highest first (voice 1 is
the soprano of a chorale, the first violin of a quartet), and figures are gathered voice by voice
in that order. Where a voice sounds several notes at once, its line is its highest note.

- range and register: each voice's lowest, highest and median pitch (MIDI numbers), the mean
  over pieces of each rank;
- voice crossings: the share of beats (the score sampled at every whole beat: 0, 1, 2, ...,
  where at least two voices sound; the first MAX_BEATS of a piece) at which a voice sounds above
  a voice ordered before it;
- parallel fifths and octaves, per 100 beats of music: for every pair of voices, at consecutive
  onsets the two share (both voices start a note), both voices move in the same direction and
  stand a perfect fifth (7 semitones apart modulo 12: fifths and compound fifths) or an octave
  (0 modulo 12: unisons, octaves and compound octaves) apart at both onsets. Pooled: all
  parallels of a set over all its beats (the pieces' lengths).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import numpy as np

from mgen.evaluate import classify
from mgen.formats.score import Score, Track

MIN_VOICES = 2  # the fewest voices that make a piece "in voices"
FIFTH, OCTAVE = 7, 0  # the intervals (semitones modulo 12) of parallel fifths and octaves
_DIGITS = 6  # onsets are compared rounded to a millionth of a beat
MAX_BEATS = 200_000  # crossings are sampled over at most this many beats of a piece (memory)


def voices(piece: Score) -> list[Track]:
    """The piece's voices, highest median pitch first: pitched tracks with sounding notes
    (only those notes kept)."""
    found = []
    for t in piece.tracks:
        keep = t.duration > 0
        if t.is_drum or not keep.any():
            continue
        found.append(t if keep.all() else replace(t, **_columns(t, keep)))
    medians = [float(np.median(t.pitch)) for t in found]
    order = sorted(range(len(found)), key=lambda i: -medians[i])  # stable for equal medians
    return [found[i] for i in order]


def _columns(t: Track, keep: np.ndarray) -> dict[str, np.ndarray]:
    return {c: getattr(t, c)[keep] for c in ("onset", "duration", "pitch", "velocity")}


def is_voiced(piece: Score) -> bool:
    return len(voices(piece)) >= MIN_VOICES


def in_voices(pieces: list[Score]) -> bool:
    """Whether half or more of `pieces` are in voices (and there is at least one)."""
    return bool(pieces) and 2 * sum(map(is_voiced, pieces)) >= len(pieces)


# -- one piece ------------------------------------------------------------------------------------


def beat_grid(track: Track, beats: int) -> np.ndarray:
    """[beats] the highest pitch the track sounds at each whole beat, -1 where it is silent."""
    lo = np.ceil(track.onset - 1e-9).astype(np.int64).clip(0, beats)
    hi = np.ceil(track.onset + track.duration - 1e-9).astype(np.int64).clip(0, beats)
    grid = np.full(beats, -1, dtype=np.int64)
    for i in np.argsort(track.pitch, kind="stable"):  # higher notes written over lower ones
        grid[lo[i] : hi[i]] = track.pitch[i]
    return grid


def crossings(ordered: list[Track], beats: int) -> tuple[int, int]:
    """(beats at which a voice sounds above a voice ordered before it, beats at which two or
    more voices sound)."""
    grid = np.stack([beat_grid(t, beats) for t in ordered])  # [V, beats]
    sounding = grid >= 0
    crossed = np.zeros(beats, dtype=bool)
    for i in range(len(ordered)):
        for j in range(i + 1, len(ordered)):
            crossed |= sounding[i] & sounding[j] & (grid[j] > grid[i])
    shared = sounding.sum(0) >= 2
    return int((crossed & shared).sum()), int(shared.sum())


def top_notes(track: Track) -> tuple[np.ndarray, np.ndarray]:
    """(onsets rounded, the highest pitch starting at each): the voice's line."""
    onset = np.round(track.onset, _DIGITS)
    last = np.r_[onset[1:] != onset[:-1], True]  # notes are sorted by (onset, pitch)
    return onset[last], track.pitch[last]


def parallels(upper: Track, lower: Track) -> tuple[int, int]:
    """(parallel fifths, parallel octaves) between two voices: at consecutive shared onsets,
    both moving the same way, a fifth (or an octave) apart modulo 12 at both."""
    (on_a, a), (on_b, b) = top_notes(upper), top_notes(lower)
    _, ia, ib = np.intersect1d(on_a, on_b, assume_unique=True, return_indices=True)
    a, b = a[ia], b[ib]  # pitches at the shared onsets, in time order
    if len(a) < 2:
        return 0, 0
    da, db = np.sign(np.diff(a)), np.sign(np.diff(b))
    moving = (da == db) & (da != 0)
    interval = np.abs(a - b) % 12
    both = interval[:-1] == interval[1:]
    fifths = moving & both & (interval[:-1] == FIFTH)
    octaves = moving & both & (interval[:-1] == OCTAVE)
    return int(fifths.sum()), int(octaves.sum())


def piece_voices(piece: Score) -> dict[str, Any]:
    """The voice figures of one piece (see the module's notes)."""
    ordered = voices(piece)
    beats = min(int(np.floor(piece.end() + 1e-9)) + 1, MAX_BEATS) if len(piece) else 0
    crossed, shared = crossings(ordered, beats) if len(ordered) >= MIN_VOICES else (0, 0)
    fifths = octaves = 0
    for i in range(len(ordered)):
        for j in range(i + 1, len(ordered)):
            f, o = parallels(ordered[i], ordered[j])
            fifths, octaves = fifths + f, octaves + o
    return {
        "voices": [
            {
                "name": t.name,
                "program": int(t.program),
                "lowest": int(t.pitch.min()),
                "highest": int(t.pitch.max()),
                "median": float(np.median(t.pitch)),
            }
            for t in ordered
        ],  # fmt: skip
        "beats": float(piece.end()),
        "crossed_beats": crossed,
        "shared_beats": shared,
        "parallel_fifths": fifths,
        "parallel_octaves": octaves,
    }


# -- a set of pieces ------------------------------------------------------------------------------


def voice_figures(pieces: list[Score]) -> dict[str, Any] | None:
    """The voice figures of the pieces in voices among `pieces`; None when there are none.
    Ranges are gathered rank by rank for the ranks most pieces have (the commonest count)."""
    voiced = [p for p in pieces if is_voiced(p)]
    if not voiced:
        return None
    each = [piece_voices(p) for p in voiced]
    counts = Counter(len(e["voices"]) for e in each)
    ranks = max(counts, key=lambda n: (counts[n], n))
    beats = sum(e["beats"] for e in each)
    shared = sum(e["shared_beats"] for e in each)
    fifths = sum(e["parallel_fifths"] for e in each)
    octaves = sum(e["parallel_octaves"] for e in each)
    return {
        "pieces": len(voiced),
        "voices_per_piece": float(np.mean([len(e["voices"]) for e in each])),
        "ranks": [_rank(r, [e["voices"] for e in each]) for r in range(ranks)],
        "beats": beats,
        "crossings": sum(e["crossed_beats"] for e in each) / shared if shared else None,
        "parallel_fifths": fifths,
        "parallel_octaves": octaves,
        "fifths_per_100_beats": 100 * fifths / beats if beats else None,
        "octaves_per_100_beats": 100 * octaves / beats if beats else None,
    }


def _rank(r: int, pieces: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """Voice `r` (0: the highest) over the pieces that have it: means of its figures."""
    found = [v[r] for v in pieces if len(v) > r]
    names = Counter(v["name"] for v in found if v["name"])
    return {
        "voice": r + 1,
        "name": names.most_common(1)[0][0] if names else "",
        "pieces": len(found),
        **{k: float(np.mean([v[k] for v in found])) for k in ("lowest", "highest", "median")},
        "range": float(np.mean([v["highest"] - v["lowest"] for v in found])),
    }


def voice_pieces(pieces: list[Score], rank: int) -> list[Score]:
    """Voice `rank` (0: the highest) of every piece in voices that has it, as a piece alone."""
    out = []
    for p in pieces:
        ordered = voices(p)
        if len(ordered) >= MIN_VOICES and len(ordered) > rank:
            out.append(replace(p, name=f"{p.name}@voice{rank + 1}", tracks=[ordered[rank]]))
    return out


def distinguish_voices(samples: list[Score], corpus: list[Score], ranks: int) -> list[dict]:
    """The classifier voice by voice: voice r of the samples told from voice r of `corpus`."""
    return [
        classify.distinguish(voice_pieces(samples, r), voice_pieces(corpus, r))
        for r in range(ranks)
    ]


def corpus_voices(pieces: list[Score]) -> dict[str, Any] | None:
    """The corpus side: its voice figures, and the classifier per voice on its odd pieces
    against its even ones (as `baseline` does for whole pieces); None when it is not in voices."""
    if not in_voices(pieces):
        return None
    figures = voice_figures(pieces)
    assert figures is not None
    figures["distinguish"] = distinguish_voices(pieces[1::2], pieces[::2], len(figures["ranks"]))
    return figures


def sample_voices(samples: list[Score], corpus: list[Score] | None) -> dict[str, Any] | None:
    """The samples' side: their voice figures and, with a corpus, the classifier per voice."""
    if not in_voices(samples):
        return None
    figures = voice_figures(samples)
    assert figures is not None
    if corpus is not None:
        figures["distinguish"] = distinguish_voices(samples, corpus, len(figures["ranks"]))
    return figures
