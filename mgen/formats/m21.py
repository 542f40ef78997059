"""Helpers shared by the tokenizers that lean on music21 (imported lazily: music21 is slow)."""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mgen.core.contracts.errors import DataError


def corpus_root() -> Path:
    import music21

    return Path(music21.__file__).parent / "corpus"


def corpus_files(collections: Sequence[str], patterns: Sequence[str]) -> list[Path]:
    root = corpus_root()
    files: list[Path] = []
    for name in collections:
        for pat in patterns:
            files.extend(sorted((root / name).rglob(pat)))
    if not files:
        raise DataError(f"music21's corpus at {root} has no {', '.join(patterns)} files")
    return files


def parse(data: str | Path, fmt: str | None = None):
    """music21 parse with its chatter silenced; any failure becomes a DataError."""
    from music21 import converter

    if _blank(data):
        # music21 takes empty text for a file name and reports the current folder.
        raise DataError("it is empty")
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            if isinstance(data, Path):
                return converter.parse(str(data), format=fmt, forceSource=True)
            return converter.parse(data, format=fmt)
    except Exception as e:  # noqa: BLE001 - music21 raises many unrelated types on bad input
        raise DataError(f"music21 cannot parse it: {type(e).__name__}: {_short(e)}") from None


def _blank(data: str | Path) -> bool:
    """Whether the text or file holds nothing but whitespace (an unreadable file is music21's
    to report)."""
    if isinstance(data, str):
        return not data.strip()
    try:
        with open(data, "rb") as f:
            return not f.read(1 << 16).strip() and not f.read(1)
    except OSError:
        return False


def write_midi(data: str, fmt: str, path: Path) -> Path:
    """Parse text in `fmt` with music21 and write it as MIDI at `path`."""
    from mgen.core.contracts.io import atomic_path

    score = _without_grace_notes(parse(data, fmt))
    # Atomic: a failed or interrupted write leaves no half-written .mid behind.
    with atomic_path(path) as tmp:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                score.write("midi", fp=str(tmp))
        except OSError:
            raise  # a full or unwritable disk is not a conversion problem: atomic_path says so
        except Exception as e:  # noqa: BLE001 - as above
            # music21's MIDI writer trips over streams its own parser accepts (e.g. a meter
            # repeated mid-tune); the notes themselves are fine, so write those directly.
            if not _write_notes(score, tmp):
                raise DataError(f"cannot write MIDI: {type(e).__name__}: {_short(e)}") from None
    return path


def _without_grace_notes(score):
    """`score` with its grace notes removed. music21's MIDI writer gives a grace note (no
    duration) its note-on and note-off on one tick, off first, so the note sounded until the
    next note-off of its pitch: `{c}BAG` held a C# for 12 beats. mgen's readers leave grace
    notes out too."""
    for n in list(score.recurse().notes):
        if n.duration.isGrace and n.activeSite is not None:
            n.activeSite.remove(n)
    return score


def _write_notes(score, path: Path, bpm: float = 100.0) -> bool:
    """Write the score's notes (ties joined) at `bpm` through the `Score`; False if it has none."""
    from mgen.formats.midi.write import write_midi

    try:
        ours = music21_score(score, str(path))
    except DataError:  # music21 may fail on the same malformed stream, or find no notes
        return False
    ours.tempos = np.array([[0.0, bpm]])
    write_midi(ours, path)
    return True


def _short(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0][:160] if text else ""


def music21_score(stream, name: str, fmt: str = "", source: str = ""):
    """A parsed music21 stream as a `Score`: a track per part (the stream itself when it has
    none), tied notes merged, grace notes and chord symbols left out, a chord one note per
    pitch; the parts' meter, key and tempo marks as maps. Modifies `stream` (ties)."""
    from mgen.formats.score import Score, change_map

    rows: tuple[list, list, list] = ([], [], [])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stream.stripTies(inPlace=True)
            tracks = []
            for part in list(getattr(stream, "parts", None) or [stream]):
                flat = part.flatten()
                tracks.append(_track(part, flat))
                for found, more in zip(rows, _marks(flat), strict=True):
                    found.extend(more)
    except Exception as e:  # noqa: BLE001 - music21 can fail late, on odd streams
        raise DataError(f"music21 cannot read its notes: {type(e).__name__}: {_short(e)}") from None
    if not any(len(t) for t in tracks):
        raise DataError("no notes")
    maps = [change_map(found, width) for found, width in zip(rows, (2, 3, 3), strict=True)]
    return Score(name, tracks, *maps, fmt=fmt, source=source)


def _track(part, flat):
    """One part's sounding notes as a `Track`, named and with the program of its instrument."""
    from music21 import harmony

    from mgen.formats.score import Track

    notes = []
    for el in flat.notes:
        if isinstance(el, harmony.Harmony):  # chord symbols are labels, not sounding notes
            continue
        dur = float(el.quarterLength)
        if dur <= 0:  # grace notes take no time
            continue
        onset = float(el.offset)
        notes.extend((p.midi, onset, dur) for p in el.pitches)
    inst = part.getInstrument(returnDefault=False)
    program = getattr(inst, "midiProgram", None)
    name = getattr(part, "partName", None) or getattr(inst, "partName", None) or ""
    return Track.from_notes(notes, name=str(name), program=int(program or 0))


def _marks(flat) -> tuple[list, list, list]:
    """(tempo, meter, key) changes of a flattened stream, as rows of `Score`'s maps."""
    from music21 import key, meter, tempo

    meters = [
        (float(ts.offset), ts.numerator, ts.denominator)
        for ts in flat.getElementsByClass(meter.TimeSignature)
    ]
    keys = [
        (float(k.offset), k.sharps, int(getattr(k, "mode", "") == "minor"))
        for k in flat.getElementsByClass(key.KeySignature)
    ]
    tempos = []
    for mark in flat.getElementsByClass(tempo.MetronomeMark):
        bpm = mark.getQuarterBPM() if mark.number is not None else None
        if bpm and bpm > 0:
            tempos.append((float(mark.offset), float(bpm)))
    return tempos, meters, keys
