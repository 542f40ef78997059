"""A synthetic MIDI corpus for the scale section: many small Standard MIDI Files, written fast.

Each file is one track of a random-walk melody with some chords, repeated and overlapping
pitches included, a tempo at the start and often a tempo change midway; 40-160 notes, at a
resolution drawn from common ones. The bytes of a file are built with numpy (events, delta
times as variable-length quantities), so 20,000 files take seconds, not minutes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

FILES_PER_SHARD = 1000  # files per sub-folder, as a large collection is laid out
_RESOLUTIONS = (96, 384, 480)


def write_corpus(folder: Path, n_files: int, seed: int = 0) -> list[Path]:
    """`n_files` files under `folder/shard-NNN/`; returns their paths."""
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n_files):
        path = folder / f"shard-{i // FILES_PER_SHARD:03d}" / f"piece-{i:06d}.mid"
        if i % FILES_PER_SHARD == 0:
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(midi_bytes(rng))
        paths.append(path)
    return paths


def midi_bytes(rng: np.random.Generator) -> bytes:
    """One synthetic file: header, then one track of tempo events and notes."""
    tpq = int(rng.choice(_RESOLUTIONS))
    n = int(rng.integers(40, 161))
    unit = tpq // 4  # a sixteenth
    gaps = rng.choice([0, 0, 1, 2, 2, 4, 4, 8], size=n) * unit  # 0: a chord tone
    onsets = np.cumsum(gaps) - gaps[0]
    durations = rng.choice([1, 2, 4, 4, 8, 16], size=n) * unit + rng.integers(-3, 4, size=n)
    pitches = np.clip(60 + np.cumsum(rng.integers(-4, 5, size=n)), 24, 108)
    velocities = rng.integers(40, 111, size=n)
    ends = onsets + np.maximum(durations, 1)
    # events: time, order (offs before ons at one tick), then the 3 bytes of each
    times = np.r_[onsets, ends]
    order = np.r_[np.ones(n), np.zeros(n)]
    status = np.r_[np.full(n, 0x90), np.full(n, 0x80)]
    data2 = np.r_[velocities, np.zeros(n, dtype=np.int64)]
    idx = np.lexsort((order, times))
    args = (np.diff(times[idx], prepend=0), status[idx], np.r_[pitches, pitches][idx], data2[idx])
    # half the files change tempo midway: a tempo event between two of the note events
    cut = n if rng.random() < 0.5 else 2 * n
    track = _tempo(rng) + _events(*(a[:cut] for a in args))
    if cut < 2 * n:
        track += _tempo(rng) + _events(*(a[cut:] for a in args))
    track += b"\x00\xff\x2f\x00"  # end of track
    header = b"MThd" + (6).to_bytes(4, "big") + b"\x00\x00\x00\x01" + tpq.to_bytes(2, "big")
    return header + b"MTrk" + len(track).to_bytes(4, "big") + track


def _events(deltas: np.ndarray, status: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> bytes:
    """Channel events with their delta times (below 2**21: at most 3 bytes of VLQ)."""
    deltas = deltas.astype(np.int64)
    rows = np.zeros((len(deltas), 6), dtype=np.uint8)
    size = 1 + (deltas >= 1 << 7) + (deltas >= 1 << 14)  # VLQ bytes per event
    for k in range(3):  # byte k of the VLQ counts from the most significant one used
        shift = 7 * (size - 1 - k)
        more = np.where(k < size - 1, 0x80, 0)
        rows[:, k] = np.where(k < size, ((deltas >> np.maximum(shift, 0)) & 0x7F) | more, 0)
    rows[:, 3], rows[:, 4], rows[:, 5] = status, d1, d2
    keep = np.ones_like(rows, dtype=bool)
    keep[:, :3] = np.arange(3) < size[:, None]
    return rows[keep].tobytes()


def _tempo(rng: np.random.Generator) -> bytes:
    """A tempo event (delta 0) of 50-200 bpm."""
    bpm = float(rng.uniform(50, 200))
    return b"\x00\xff\x51\x03" + int(60e6 / bpm).to_bytes(3, "big")
