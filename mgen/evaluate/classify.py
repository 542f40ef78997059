"""Can a classifier tell the samples from real pieces? A two-sample test by logistic regression.

Each piece becomes a vector of normalized histograms: pitch classes (the piece rotated to C major
/ A minor first), melodic intervals, note durations, and bigrams of interval classes (down leap,
down step, repeat, up step, up leap), plus notes per bar and pitch range. Samples and as many
corpus pieces (spread evenly) are told apart by L2-regularized logistic regression (Newton's
method, numpy), scored by stratified k-fold cross-validation. Accuracy near 50% means the
classifier cannot tell them apart; its 95% Wilson interval and a one-sided binomial p-value say
how sure that is. The largest standardized weights of a fit on all pieces name the features
that give the samples away.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mgen.evaluate import form, metrics
from mgen.evaluate.notes import Score, evenly

MIN_PER_CLASS = 5
FOLDS = 5
RIDGE = 10.0
_NOTES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
_CLASSES = ["down leap", "down step", "repeat", "up step", "up leap"]
FEATURES = (
    [f"pitch class {n} (in C/Am)" for n in _NOTES]
    + [f"interval {i:+d}" for i in range(-13, 14)]
    + [f"duration 2^{k} beats" for k in range(-4, 4)]
    + [f"{a}, then {b}" for a in _CLASSES for b in _CLASSES]
    + ["notes per bar (log)", "pitch range / 24"]
)


def _norm(x: np.ndarray) -> np.ndarray:
    s = x.sum()
    return x / s if s > 0 else x


def features(piece: Score) -> np.ndarray:
    """[74] the feature vector of one piece (names in FEATURES)."""
    melody = piece.melody()
    steps = np.diff(melody)
    cls = np.digitize(steps, [-2.5, -0.5, 0.5, 2.5])  # 0..4 as in _CLASSES
    bigrams = np.bincount(cls[:-1] * 5 + cls[1:], minlength=25).astype(np.float64)
    span = float(piece.pitch.max() - piece.pitch.min()) if len(piece) else 0.0
    return np.concatenate([
        _norm(metrics.key_normalized(metrics.pitch_class_counts(piece))),
        _norm(form.interval_counts(piece)),
        _norm(form.duration_counts(piece)),
        _norm(bigrams),
        [math.log(1 + len(piece) / piece.bars()), span / 24],
    ])  # fmt: skip


def fit(x: np.ndarray, y: np.ndarray, ridge: float = RIDGE, steps: int = 25) -> np.ndarray:
    """Logistic-regression weights (bias last) by Newton's method with an L2 penalty."""
    xb = np.c_[x, np.ones(len(x))]
    w = np.zeros(xb.shape[1])
    penalty = np.full(xb.shape[1], ridge)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(xb @ w, -30, 30)))
        grad = xb.T @ (p - y) + penalty * w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(penalty) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def _standardize(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu, sd = train.mean(0), train.std(0)
    sd[sd == 0] = 1.0
    return (train - mu) / sd, (test - mu) / sd


def cross_validate(x: np.ndarray, y: np.ndarray, folds: int = FOLDS) -> int:
    """How many pieces stratified k-fold cross-validation classifies correctly."""
    fold = np.empty(len(y), dtype=np.int64)
    for label in (0, 1):
        idx = np.flatnonzero(y == label)
        fold[idx] = np.arange(len(idx)) % folds
    correct = 0
    for k in range(folds):
        test = fold == k
        xtr, xte = _standardize(x[~test], x[test])
        w = fit(xtr, y[~test])
        pred = (np.c_[xte, np.ones(len(xte))] @ w) > 0
        correct += int((pred == y[test].astype(bool)).sum())
    return correct


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion k/n."""
    p = k / n
    mid = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, mid - half), min(1.0, mid + half)


def binomial_p(k: int, n: int) -> float:
    """P(at least k of n right by chance, p = 1/2): one-sided."""
    return min(1.0, sum(math.comb(n, i) for i in range(k, n + 1)) / 2**n)


def distinguish(samples: list[Score], corpus: list[Score]) -> dict[str, Any]:
    """Cross-validated accuracy of telling `samples` from as many `corpus` pieces."""
    samples = [p for p in samples if len(p) >= 2]
    corpus = [p for p in corpus if len(p) >= 2]
    n = min(len(samples), len(corpus))
    if n < MIN_PER_CLASS:
        return {"accuracy": None, "reason": f"needs {MIN_PER_CLASS} pieces a side, has {n}"}
    chosen = evenly(samples, n) + evenly(corpus, n)
    x = np.stack([features(p) for p in chosen])
    y = np.r_[np.ones(n), np.zeros(n)]
    correct = cross_validate(x, y, min(FOLDS, n))
    lo, hi = wilson(correct, 2 * n)
    return {
        "accuracy": correct / (2 * n),
        "ci95": [lo, hi],
        "p_value": binomial_p(correct, 2 * n),
        "pieces_per_side": n,
        "giveaways": giveaways(x, y),
    }


def giveaways(x: np.ndarray, y: np.ndarray, top: int = 5) -> list[dict[str, Any]]:
    """The features with the largest standardized weights: what sets the samples apart."""
    xs, _ = _standardize(x, x)
    w = fit(xs, y)[:-1]
    order = np.argsort(-np.abs(w))[:top]
    return [
        {
            "feature": FEATURES[i],
            "weight": float(w[i]),
            "samples_mean": float(x[y == 1, i].mean()),
            "corpus_mean": float(x[y == 0, i].mean()),
        }
        for i in order
    ]
