"""MIDI files -> note and tempo arrays in ticks, for both MIDI tokenizers.

Two readers give the same arrays: `symusic` (the default: a C++ parser, ~50x faster) and
`miditoolkit` (pure Python over mido: the reader mgen used before, kept as the reference the
tests compare against and as a fallback). Both pair a note-off with the oldest open note of its
channel and pitch (first in, first out) and mark channel 10 as drums.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from mgen.core.contracts.errors import ConfigError, DataError

READERS = ("symusic", "miditoolkit")
DEFAULT_TEMPO = 120.0  # MIDI's own default, for a file without tempo events


@dataclasses.dataclass
class MidiData:
    """One file's kept notes and its tempo map, in the file's own ticks."""

    ticks_per_beat: int
    notes: np.ndarray  # [N, 4] int64: start tick, end tick, pitch, velocity
    tempos: np.ndarray  # [K, 2] float64: tick, bpm; from tick 0, ticks ascending, no repeats

    def tempo_at(self, ticks: np.ndarray) -> np.ndarray:
        """bpm in force at each tick (the map starts at tick 0)."""
        idx = np.searchsorted(self.tempos[:, 0], ticks, side="right") - 1
        return self.tempos[np.maximum(idx, 0), 1]


def load(path: Path, reader: str = "symusic", piano_only: bool = False) -> MidiData:
    """Notes of every non-drum track (only programs 0-7 with `piano_only`) and the tempo map.
    DataError for a missing, empty, unreadable or untimed file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:  # missing or unreadable: the file's problem, not a bug
        raise DataError(f"cannot read {path}: {e.strerror or e}") from None
    if not data:
        raise DataError("empty file")
    if reader == "symusic":
        return _symusic(data, piano_only)
    if reader == "miditoolkit":
        return _miditoolkit(path, piano_only)
    raise ConfigError(f"reader must be one of {', '.join(READERS)}, got {reader!r}")


def _unreadable(e: Exception) -> DataError:
    text = str(e).strip().splitlines()
    why = f"{type(e).__name__}: {text[0][:120]}" if text else type(e).__name__
    return DataError(f"not a readable MIDI file ({why})")


def _check_timing(ticks_per_beat: int) -> None:
    if ticks_per_beat <= 0:  # a division of 0 or SMPTE: no note has a position in beats
        raise DataError(f"no usable timing ({ticks_per_beat} ticks per beat)")


def _symusic(data: bytes, piano_only: bool) -> MidiData:
    import symusic

    try:
        score = symusic.Score.from_midi(data)
    except Exception as e:  # noqa: BLE001 - the parser raises RuntimeError and others on bad files
        if "Division type" in str(e):
            raise DataError("no usable timing (SMPTE division, not ticks per beat)") from None
        raise _unreadable(e) from None
    _check_timing(score.ticks_per_quarter)
    parts = []
    for track in score.tracks:
        if track.is_drum or (piano_only and not 0 <= track.program <= 7):
            continue
        n = track.notes.numpy()
        start = n["time"].astype(np.int64)
        parts.append(np.stack([start, start + n["duration"], n["pitch"], n["velocity"]], axis=1))
    tempos = score.tempos.numpy()
    with np.errstate(divide="ignore"):
        bpm = 60e6 / tempos["mspq"].astype(np.float64)
    return MidiData(score.ticks_per_quarter, _stack(parts), tempo_map(tempos["time"], bpm))


def _miditoolkit(path: Path, piano_only: bool) -> MidiData:
    import miditoolkit

    try:
        midi = miditoolkit.MidiFile(str(path))
    except EOFError:
        raise DataError("truncated MIDI file (the data ends early)") from None
    except Exception as e:  # noqa: BLE001 - mido raises many types (OSError, KeyError, ...) on bad files
        raise _unreadable(e) from None
    _check_timing(midi.ticks_per_beat)
    parts = [
        np.asarray([(n.start, n.end, n.pitch, n.velocity) for n in inst.notes], dtype=np.int64)
        for inst in midi.instruments
        if not inst.is_drum and (not piano_only or 0 <= inst.program <= 7)
    ]
    changes = midi.tempo_changes
    times = np.asarray([c.time for c in changes], dtype=np.int64)
    bpm = np.asarray([c.tempo for c in changes], dtype=np.float64)
    return MidiData(midi.ticks_per_beat, _stack(parts), tempo_map(times, bpm))


def _stack(parts: list[np.ndarray]) -> np.ndarray:
    parts = [p.reshape(-1, 4) for p in parts if len(p)]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros((0, 4), np.int64)


def tempo_map(times: Any, bpm: Any) -> np.ndarray:
    """[K, 2] (tick, bpm): MIDI's 120 bpm until the first tempo event, unusable tempos
    dropped, the last of one tick kept, repeats of the tempo in force dropped."""
    times = np.r_[0, np.asarray(times, dtype=np.int64)]
    bpm = np.r_[DEFAULT_TEMPO, np.asarray(bpm, dtype=np.float64)]
    ok = np.isfinite(bpm) & (bpm > 0)
    times, bpm = times[ok], bpm[ok]
    order = np.argsort(times, kind="stable")
    times, bpm = times[order], bpm[order]
    last = np.r_[times[1:] != times[:-1], True]  # the last event of each tick rules
    times, bpm = times[last], bpm[last]
    new = np.r_[True, bpm[1:] != bpm[:-1]]
    return np.stack([times[new], bpm[new]], axis=1).astype(np.float64)
