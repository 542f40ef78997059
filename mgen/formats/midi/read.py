"""MIDI files -> a `Score`: mgen's one MIDI reader, for the tokenizers and for the judge's notes.

Two readers give the same score: `symusic` (the default: a C++ parser, ~50x faster) and
`miditoolkit` (pure Python over mido: the reader mgen used before, kept as the reference the
tests compare against and as a fallback). Both pair a note-off with the oldest open note of its
channel and pitch (first in, first out), make a track of each channel's program on each MIDI
track (none of a track without notes: the score holds no controls), and mark channel 10 as
drums. (The strict reader in `smf` is the judge's independent
check of a file's bytes, not a way to its notes.)

`load` gives the tokenizers the same score in the file's own ticks (`MidiData`), so that
quantizing to their grid is exact integer arithmetic.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from mgen.core.contracts.errors import ConfigError, DataError
from mgen.formats.score import DEFAULT_TEMPO, Score, Track, change_map

READERS = ("symusic", "miditoolkit")
__all__ = ["DEFAULT_TEMPO", "READERS", "MidiData", "load", "read_midi", "tempo_map"]


def read_midi(path: Path, reader: str = "symusic", name: str | None = None) -> Score:
    """Every track of a MIDI file, timed in beats, with its tempo, meter and key maps.
    DataError for a missing, empty, unreadable or untimed file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:  # missing or unreadable: the file's problem, not a bug
        raise DataError(f"cannot read {path}: {e.strerror or e}") from None
    if not data:
        raise DataError("empty file")
    if reader == "symusic":
        score = _symusic(data)
    elif reader == "miditoolkit":
        score = _miditoolkit(path)
    else:
        raise ConfigError(f"reader must be one of {', '.join(READERS)}, got {reader!r}")
    score.name = name or str(path)
    return score


def _unreadable(e: Exception) -> DataError:
    text = str(e).strip().splitlines()
    why = f"{type(e).__name__}: {text[0][:120]}" if text else type(e).__name__
    return DataError(f"not a readable MIDI file ({why})")


def _check_timing(ticks_per_beat: int) -> None:
    if ticks_per_beat <= 0:  # a division of 0 or SMPTE: no note has a position in beats
        raise DataError(f"no usable timing ({ticks_per_beat} ticks per beat)")


def _track(name: str, program: int, drum: bool, ticks: np.ndarray, res: int) -> Track:
    """A track from [N, 4] (start tick, end tick, pitch, velocity) rows. A duration is the
    end's beat less the start's (not the ticks' difference over `res`): the beats the judge
    has always measured, to the last bit."""
    start, end = ticks[:, 0] / res, ticks[:, 1] / res
    return Track(name, int(program), bool(drum), start, end - start, ticks[:, 2], ticks[:, 3])


def _symusic(data: bytes) -> Score:
    import symusic

    try:
        score = symusic.Score.from_midi(data)
    except Exception as e:  # noqa: BLE001 - the parser raises RuntimeError and others on bad files
        if "Division type" in str(e):
            raise DataError("no usable timing (SMPTE division, not ticks per beat)") from None
        raise _unreadable(e) from None
    res = score.ticks_per_quarter
    _check_timing(res)
    tracks = []
    for t in score.tracks:
        if not len(t.notes):
            continue
        n = t.notes.numpy()
        start = n["time"].astype(np.int64)
        ticks = np.stack([start, start + n["duration"], n["pitch"], n["velocity"]], axis=1)
        tracks.append(_track(t.name, t.program, t.is_drum, ticks, res))
    tempos = score.tempos.numpy()
    with np.errstate(divide="ignore"):
        bpm = 60e6 / tempos["mspq"].astype(np.float64)
    meters = score.time_signatures.numpy()
    keys = score.key_signatures.numpy()
    return Score(
        "",
        tracks,
        tempos=_in_beats(tempo_map(tempos["time"], bpm), res),
        meters=_map(meters["time"], res, meters["numerator"], meters["denominator"]),
        keys=_map(keys["time"], res, keys["key"], keys["tonality"]),
        resolution=res,
        fmt="midi",
    )


def _miditoolkit(path: Path) -> Score:
    import miditoolkit

    try:
        midi = miditoolkit.MidiFile(str(path))
    except EOFError:
        raise DataError("truncated MIDI file (the data ends early)") from None
    except Exception as e:  # noqa: BLE001 - mido raises many types (OSError, KeyError, ...) on bad files
        raise _unreadable(e) from None
    res = midi.ticks_per_beat
    _check_timing(res)
    tracks = [
        _track(inst.name, inst.program, inst.is_drum, _note_rows(inst.notes), res)
        for inst in midi.instruments
        if inst.notes
    ]
    changes = midi.tempo_changes
    times = np.asarray([c.time for c in changes], dtype=np.int64)
    bpm = np.asarray([c.tempo for c in changes], dtype=np.float64)
    meters = midi.time_signature_changes
    keys = [(k.time, *_sharps(k.key_number)) for k in midi.key_signature_changes]
    return Score(
        "",
        tracks,
        tempos=_in_beats(tempo_map(times, bpm), res),
        meters=_map(
            [m.time for m in meters],
            res,
            [m.numerator for m in meters],
            [m.denominator for m in meters],
        ),  # fmt: skip
        keys=_map([k[0] for k in keys], res, [k[1] for k in keys], [k[2] for k in keys]),
        resolution=res,
        fmt="midi",
    )


def _note_rows(notes: list[Any]) -> np.ndarray:
    rows = [(n.start, n.end, n.pitch, n.velocity) for n in notes]
    return np.asarray(rows, dtype=np.int64).reshape(-1, 4)


#: Sharps of the major key on each pitch class (C, C#=Db, D, ...): Db, Eb, Ab, Bb in flats.
_MAJOR_SHARPS = (0, -5, 2, -3, 4, -1, 6, 1, -4, 3, -2, 5)


def _sharps(key_number: int) -> tuple[int, int]:
    """miditoolkit's key number (0-11 major tonics, 12-23 minor) -> (sharps, minor)."""
    minor = int(key_number >= 12)
    major_tonic = (key_number % 12 + 3 * minor) % 12  # a minor key's relative major
    return _MAJOR_SHARPS[major_tonic], minor


def _map(ticks: Any, res: int, *values: Any) -> np.ndarray:
    rows = np.stack([np.asarray(ticks, dtype=np.float64) / res, *map(np.asarray, values)], axis=1)
    return change_map(rows.astype(np.float64), rows.shape[1])


def _in_beats(tempos: np.ndarray, res: int) -> np.ndarray:
    return np.stack([tempos[:, 0] / res, tempos[:, 1]], axis=1)


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


# -- the tokenizers' view: the same score in the file's ticks ---------------------------------


@dataclasses.dataclass
class MidiData:
    """A score's pitched notes and tempo map in its file's own ticks: what the MIDI tokenizers
    quantize (a view of the `Score` `read_midi` gives, not a reading of its own)."""

    ticks_per_beat: int
    notes: np.ndarray  # [N, 4] int64: start tick, end tick, pitch, velocity
    tempos: np.ndarray  # [K, 2] float64: tick, bpm; from tick 0, ticks ascending, no repeats

    @classmethod
    def of(cls, score: Score, piano_only: bool = False) -> MidiData:
        """Notes of every non-drum track (only programs 0-7 with `piano_only`)."""
        res = score.resolution
        parts = []
        for t in score.tracks:
            if t.is_drum or (piano_only and not 0 <= t.program <= 7):
                continue
            start, end = t.onset * res, (t.onset + t.duration) * res
            parts.append(np.stack([start, end, t.pitch, t.velocity], axis=1))
        notes = np.concatenate(parts) if parts else np.zeros((0, 4))
        tempo = score.tempo_map()
        ticks = np.c_[np.rint(tempo[:, 0] * res), tempo[:, 1]]
        return cls(res, np.rint(notes).astype(np.int64), ticks)

    def tempo_at(self, ticks: np.ndarray) -> np.ndarray:
        """bpm in force at each tick (the map starts at tick 0)."""
        idx = np.searchsorted(self.tempos[:, 0], ticks, side="right") - 1
        return self.tempos[np.maximum(idx, 0), 1]


def load(path: Path, reader: str = "symusic", piano_only: bool = False) -> MidiData:
    """The tokenizers' reading of a MIDI file: `read_midi`, in ticks (see `MidiData.of`)."""
    return MidiData.of(read_midi(path, reader), piano_only)
