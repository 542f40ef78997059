"""Musical figures of pieces: statistics, pitch-class divergence, repetition and novelty.

Definitions (docs/evaluation.md explains the choices):
- pitch range: highest minus lowest MIDI pitch (muspy `pitch_range`);
- scale consistency: the largest share of notes inside one of the 24 major and minor scales
  (muspy `scale_consistency`);
- looping: the tail of the top line (its last half, at least 16 notes) repeats one cycle of
  pitches at least 3 times; stuck: looping with a cycle of at most 4 notes (one note repeated
  included), or one note held for half of a piece of 4 bars or more;
- key-normalized pitch classes: each piece's histogram rotated to C major / A minor first;
- same-pitch run: the most consecutive top-line notes with one pitch;
- copied: the longest run of consecutive pitch intervals of the top line that appears verbatim in
  one reference piece, counted in notes (intervals + 1), so it ignores transposition.
"""

from __future__ import annotations

import numpy as np

from mgen.formats.score import Score

STUCK_TAIL = 16  # the fewest notes a tail must have before a sample can be called stuck
STUCK_PERIOD = 4  # longest cycle, in notes, that counts as stuck
HELD_BARS = 4  # a piece this long whose one note lasts half of it is stuck holding that note
COPY_NOTES = 16  # a verbatim copy this long or longer marks a sample as copied

# Scale masks [24, 12]: row r < 12 is the major scale on pitch class r, r >= 12 the natural minor.
_MAJOR = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], dtype=bool)
_MINOR = np.array([1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0], dtype=bool)
SCALES = np.stack([np.roll(m, r) for m in (_MAJOR, _MINOR) for r in range(12)])


def pitch_class_counts(piece: Score) -> np.ndarray:
    """[12] note counts per pitch class."""
    return np.bincount(piece.pitch % 12, minlength=12).astype(np.float64)


def scale_consistency(piece: Score) -> float:
    counts = pitch_class_counts(piece)
    return float((SCALES @ counts).max() / counts.sum())


def piece_stats(piece: Score) -> dict[str, float]:
    """The per-piece statistics compared with the reference corpus."""
    return {
        "pitch_range": float(piece.pitch.max() - piece.pitch.min()),
        "mean_duration": float(piece.duration.mean()),
        "notes_per_bar": len(piece) / piece.bars(),
        "scale_consistency": scale_consistency(piece),
        "same_pitch_run": float(longest_same_pitch(piece.melody())),
    }


STAT_NAMES = (
    "pitch_range",
    "mean_duration",
    "notes_per_bar",
    "scale_consistency",
    "same_pitch_run",
)


# Krumhansl-Kessler key profiles (tonic first): how well each pitch class fits a key.
_KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
# [24, 12]: rows 0-11 the major keys on C..B, rows 12-23 the minor keys on C..B.
_KEY_PROFILES = np.stack([np.roll(p, r) for p in (_KK_MAJOR, _KK_MINOR) for r in range(12)])


def key_normalized(counts: np.ndarray) -> np.ndarray:
    """[12] pitch-class counts rotated so the estimated key becomes C major or A minor.

    Krumhansl-Schmuckler key finding: the key whose profile correlates best with the counts.
    Rotating every piece to one key (as the kern tokenizer does with its training data) lets
    pieces in different keys be compared by their tonal shape rather than by their key.
    """
    if counts.sum() == 0 or counts.std() == 0:
        return counts
    corr = [np.corrcoef(counts, prof)[0, 1] for prof in _KEY_PROFILES]
    key = int(np.argmax(corr))
    tonic, minor = key % 12, key >= 12
    return np.roll(counts, (9 if minor else 0) - tonic)


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence of two histograms (normalized here), base 2: in [0, 1]."""
    p = np.asarray(p, dtype=np.float64) / np.sum(p)
    q = np.asarray(q, dtype=np.float64) / np.sum(q)
    m = (p + q) / 2

    def kl(a: np.ndarray) -> float:
        nz = a > 0  # 0 log 0 = 0; where a > 0, m > 0 too
        return float(np.sum(a[nz] * np.log2(a[nz] / m[nz])))

    return max(0.0, min(1.0, (kl(p) + kl(q)) / 2))


def tail_period(melody: np.ndarray) -> int | None:
    """The shortest cycle the melody's tail repeats (1 = one pitch), or None if it does not loop.

    The tail is the last half of the top line, at least STUCK_TAIL notes; it loops with period p
    if every note equals the one p before it and the cycle comes round at least 3 times. Melodies
    shorter than STUCK_TAIL notes are never judged: too short to tell.
    """
    n = len(melody)
    if n < STUCK_TAIL:
        return None
    tail = melody[-max(STUCK_TAIL, n // 2) :]
    for period in range(1, len(tail) // 3 + 1):
        if np.array_equal(tail[period:], tail[:-period]):
            return period
    return None


def held_too_long(piece: Score) -> bool:
    """One note sounding for at least half of a piece of HELD_BARS bars or more: the way a
    grid tokenizer (one token per time step) gets stuck, by holding one note forever."""
    if len(piece) == 0 or piece.bars() < HELD_BARS:
        return False
    return float(piece.duration.max()) >= piece.end() / 2


def is_stuck(piece: Score, period: int | None) -> bool:
    """Stuck on one note or a short cycle: the tail loops with a cycle of at most STUCK_PERIOD
    notes, or one note is held for half the piece."""
    return (period is not None and period <= STUCK_PERIOD) or held_too_long(piece)


def longest_same_pitch(melody: np.ndarray) -> int:
    """The most consecutive notes of the top line with one pitch."""
    if len(melody) == 0:
        return 0
    change = np.flatnonzero(np.diff(melody) != 0)  # last index of each run but the final one
    bounds = np.concatenate([[-1], change, [len(melody) - 1]])
    return int(np.diff(bounds).max())


# -- verbatim copies --------------------------------------------------------------------------

_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd, so invertible modulo 2**64
_BASE_INV = np.uint64(pow(int(_BASE), -1, 2**64))


def _symbols(melody: np.ndarray) -> np.ndarray:
    """Pitch intervals as positive uint64 symbols (never 0, so no run hashes like a shorter one)."""
    return (np.diff(melody.astype(np.int64)) + 256).astype(np.uint64)


def _powers(base: np.uint64, n: int) -> np.ndarray:
    out = np.full(n, base, dtype=np.uint64)
    out[0] = 1
    return np.cumprod(out, dtype=np.uint64)  # wraps modulo 2**64, as intended


class _Hasher:
    """Polynomial hashes mod 2**64 of every length-k window of one symbol array, vectorized.

    With S[j] = sum_{t<j} x[t] B^-t, the window [i, i+k) hashes to B^(i+k-1) (S[i+k] - S[i]) =
    sum_t x[t] B^(i+k-1-t): the same value wherever the window sits, in O(1) per window.
    """

    def __init__(self, x: np.ndarray):
        n = len(x)
        self.n = n
        self.pow = _powers(_BASE, n + 1)  # [n+1] B^j
        scaled = x * _powers(_BASE_INV, n + 1)[:n]  # [n] x[t] B^-t
        self.prefix = np.concatenate([np.zeros(1, np.uint64), np.cumsum(scaled, dtype=np.uint64)])

    def windows(self, k: int, starts: np.ndarray | None = None) -> np.ndarray:
        """Hashes of the windows of length k starting at `starts` (default: every start)."""
        if starts is None:
            starts = np.arange(self.n - k + 1)
        return self.pow[starts + k - 1] * (self.prefix[starts + k] - self.prefix[starts])


class CopyIndex:
    """Every interval run of a reference corpus, to find the longest verbatim copy fast.

    The reference melodies are joined into one symbol array; windows that would cross from one
    piece into the next are left out, so a copy is always a copy of one real piece, and `find`
    says which (its index in the melodies given).
    """

    def __init__(self, melodies: list[np.ndarray]):
        kept = [i for i, m in enumerate(melodies) if len(m) >= 2]
        runs = [_symbols(np.asarray(melodies[i])) for i in kept]
        self.longest = max((len(r) for r in runs), default=0)
        x = np.concatenate(runs) if runs else np.zeros(0, np.uint64)
        self.ends = np.cumsum([len(r) for r in runs], dtype=np.int64)  # [P] each run's end
        self.owner = np.asarray(kept, dtype=np.int64)  # [P] the melody each run comes from
        # piece_end[i]: where the piece holding position i ends (exclusive).
        self.piece_end = np.repeat(self.ends, [len(r) for r in runs])
        self.hasher = _Hasher(x)
        self._sets: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _set(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(sorted distinct hashes of every k-interval window, where each first occurs)."""
        if k not in self._sets:
            starts = np.flatnonzero(np.arange(self.hasher.n) + k <= self.piece_end)
            hashes, first = np.unique(self.hasher.windows(k, starts), return_index=True)
            self._sets[k] = (hashes, starts[first])
        return self._sets[k]

    def _match(self, hasher: _Hasher, k: int) -> int | None:
        """Where in the reference some k-interval window of the sample occurs, or None."""
        ref, where = self._set(k)
        if len(ref) == 0:
            return None
        found = hasher.windows(k)
        pos = np.searchsorted(ref, found).clip(max=len(ref) - 1)
        hit = np.flatnonzero(ref[pos] == found)
        return int(where[pos[hit[0]]]) if len(hit) else None

    def find(self, melody: np.ndarray) -> tuple[int, int | None]:
        """(the most consecutive notes of `melody` whose intervals one reference melody
        contains, the index of that melody; None when no two notes are copied)."""
        if len(melody) < 2:
            return len(melody), None
        hasher = _Hasher(_symbols(np.asarray(melody)))
        # A copy of k intervals contains copies of every shorter length: binary search on k.
        lo, hi, at = 0, min(hasher.n, self.longest), None
        while lo < hi:
            mid = (lo + hi + 1) // 2
            hit = self._match(hasher, mid)
            if hit is None:
                hi = mid - 1
            else:
                lo, at = mid, hit
        if at is None:
            return 1, None
        return lo + 1, int(self.owner[np.searchsorted(self.ends, at, side="right")])

    def longest_copy(self, melody: np.ndarray) -> int:
        """The most consecutive notes of `melody` whose intervals a reference piece contains."""
        return self.find(melody)[0]
