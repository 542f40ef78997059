"""A `Score` -> a MIDI file (symusic): every track with its name, program and drum flag, and
the score's tempo, meter and key maps, written as they are (no change is merged or dropped)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mgen.core.contracts.errors import DataError
from mgen.core.contracts.io import atomic_path
from mgen.formats.score import Score

DEFAULT_RESOLUTION = 480  # ticks per beat where the score has none: divisible by 2, 3, 4, 5, 6, 8


def midi_bytes(score: Score, resolution: int | None = None) -> bytes:
    """The score as a standard MIDI file, `resolution` ticks per beat (else its own)."""
    import symusic

    res = int(resolution or score.resolution or DEFAULT_RESOLUTION)
    out = symusic.Score(res)
    for t in score.tracks:
        track = symusic.Track(name=t.name, program=int(t.program), is_drum=bool(t.is_drum))
        start = np.rint(t.onset * res).astype(np.int32)
        length = np.rint((t.onset + t.duration) * res).astype(np.int32) - start
        ok = (t.pitch >= 0) & (t.pitch <= 127) & (length >= 0)
        track.notes.extend(
            symusic.Note(int(s), int(d), int(p), int(v))
            for s, d, p, v in zip(start[ok], length[ok], t.pitch[ok], t.velocity[ok], strict=True)
        )
        out.tracks.append(track)
    for beat, qpm in score.tempos:
        out.tempos.append(symusic.Tempo(int(round(beat * res)), qpm=float(qpm)))
    for beat, num, den in score.meters:
        if _midi_meter(num, den):
            out.time_signatures.append(
                symusic.TimeSignature(int(round(beat * res)), int(num), int(den))
            )
    for beat, sharps, minor in score.keys:
        out.key_signatures.append(
            symusic.KeySignature(int(round(beat * res)), int(sharps), int(minor))
        )
    return out.dumps_midi()


def _midi_meter(num: float, den: float) -> bool:
    """Whether a MIDI time signature can hold the meter: a whole numerator of 1 to 255 and a
    denominator a power of two up to 128 (a meter of fractional beats, `M:300/4` or `M:3/6`
    has no MIDI form: the notes are written without it)."""
    whole = num == int(num) and den == int(den)
    return whole and 1 <= num <= 255 and int(den) in (1, 2, 4, 8, 16, 32, 64, 128)


def write_midi(score: Score, path: Path, resolution: int | None = None) -> Path:
    """Write the score as MIDI at `path` (atomically); DataError when it has nothing to write."""
    if not any(len(t) for t in score.tracks):
        raise DataError("no notes to write")
    data = midi_bytes(
        score, resolution
    )  # bytes: Python's write reports a full disk, symusic's would not
    with atomic_path(Path(path)) as tmp:
        tmp.write_bytes(data)
    return Path(path)
