"""Keys by name: reading "D minor", "Dm", "F#", ABC's "Ador" as one spelling, moving a key by
semitones, and estimating a melody's key from its pitch classes (Krumhansl-Schmuckler with the
Krumhansl-Kessler profiles: a dot product per candidate key, fast enough for every training
piece). No music21: data preparation reads thousands of pieces.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

MAJOR_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MINOR_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")
#: ABC's and music21's mode names, each the major or minor key it sits in (the mode's tonic kept).
MODES = {"major": "major", "maj": "major", "ionian": "major", "ion": "major", "": "major",
         "minor": "minor", "min": "minor", "m": "minor", "aeolian": "minor", "aeo": "minor",
         "dorian": "dorian", "dor": "dorian", "phrygian": "phrygian", "phr": "phrygian",
         "lydian": "lydian", "lyd": "lydian", "mixolydian": "mixolydian", "mix": "mixolydian",
         "locrian": "locrian", "loc": "locrian"}  # fmt: skip
_STEPS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_KEY = re.compile(r"^\s*([A-Ga-g])\s*([#b]?)\s*-?\s*([A-Za-z]*)\s*$")

_KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def _profiles() -> np.ndarray:
    """[24, 12] the profiles of the 12 major then 12 minor keys, each centred."""
    rows = [np.roll(p, k) for p in (_KK_MAJOR, _KK_MINOR) for k in range(12)]
    out = np.array(rows)
    out = out - out.mean(axis=1, keepdims=True)
    return out / np.linalg.norm(out, axis=1, keepdims=True)  # dot products are correlations


_PROFILES = _profiles()


def key_name(tonic: int, mode: str) -> str:
    """The key on pitch class `tonic` in `mode`, spelt one way: "Eb major", "C# minor"."""
    names = MAJOR_NAMES if mode in ("major", "lydian", "mixolydian") else MINOR_NAMES
    return f"{names[tonic % 12]} {mode}"


def parse_key(text: str) -> tuple[int, str] | None:
    """(tonic pitch class, mode) of "D minor", "Dm", "f#", "Bb", "Ador" (ABC), "E-" (music21's
    flat); None when `text` names no key. A lower-case tonic alone is minor (music21's habit)."""
    m = _KEY.match(text.replace("♯", "#").replace("♭", "b"))
    if not m:
        return None
    letter, accidental, mode_text = m.groups()
    word = mode_text.lower()
    mode = MODES.get(word) or MODES.get(word[:3]) if word else None
    if word and mode is None:
        return None
    mode = mode or ("major" if letter.isupper() else "minor")
    flat = "-" in text or accidental == "b"
    tonic = _STEPS[letter.lower()] + (1 if accidental == "#" else -1 if flat else 0)
    return tonic % 12, mode


def normal_key(text: str) -> str | None:
    """`text` as `key_name` spells it ("dm" -> "D minor"), None when it names no key."""
    found = parse_key(text)
    return key_name(*found) if found else None


def move_key(name: str, semitones: int) -> str | None:
    """The key `name` moved by `semitones` ("D minor", 2 -> "E minor")."""
    found = parse_key(name)
    return key_name(found[0] + semitones, found[1]) if found else None


def estimate_key(pitches: Sequence[int], weights: Sequence[float] | None = None) -> str | None:
    """The major or minor key whose Krumhansl-Kessler profile best matches the pitch-class
    profile of `pitches` (MIDI numbers; `weights`, e.g. durations: 1 each), None for no notes."""
    if len(pitches) == 0:
        return None
    pcs = np.asarray(pitches, dtype=np.int64) % 12
    w = np.ones(len(pcs)) if weights is None else np.asarray(weights, dtype=float)
    hist = np.bincount(pcs, weights=w, minlength=12)
    if not hist.any():
        return None
    best = int(np.argmax(_PROFILES @ (hist - hist.mean())))
    return key_name(best % 12, "major" if best < 12 else "minor")
