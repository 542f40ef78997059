"""Any supported file -> pieces of note events (pitch, onset and duration in quarter-note beats).

MIDI is read with pretty_midi; ABC, **kern and MusicXML with music21. An ABC file may hold many
tunes: each `X:` tune is its own piece, parsed on its own, so one bad tune spoils only itself
and a reference corpus can be sampled tune by tune. Each spine of a **kern file is its own piece
(a melody); MIDI and MusicXML files are one piece each, all parts together.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mgen.core.errors import DataError

#: Suffix -> format name. Every format here can be evaluated and rendered.
FORMATS = {
    ".abc": "abc",
    ".krn": "kern",
    ".mid": "midi",
    ".midi": "midi",
    ".xml": "musicxml",
    ".musicxml": "musicxml",
    ".mxl": "musicxml",
}
PATTERNS = tuple(f"*{suffix}" for suffix in FORMATS)
DEFAULT_BAR = 4.0  # beats per bar when a file has no time signature (4/4)
_TUNE_START = re.compile(r"(?m)^(?=X:)")


@dataclass
class Piece:
    """One piece's notes, sorted by (onset, pitch). Chords give one note per pitch."""

    name: str  # the file, plus `#n` for the n-th tune of a multi-tune ABC file
    pitch: np.ndarray  # [N] int64 MIDI numbers
    onset: np.ndarray  # [N] float64 beats (quarter notes) from the start
    duration: np.ndarray  # [N] float64 beats
    bar_length: float  # beats per bar, from the first time signature

    def __len__(self) -> int:
        return len(self.pitch)

    def melody(self) -> np.ndarray:
        """The top line: the highest pitch at each distinct onset, [M] int64.

        For monophonic music this is every note; for chords and piano music it is the line a
        listener follows, which is what "stuck" and "copied" should be judged on.
        """
        if len(self.pitch) == 0:
            return self.pitch
        # Notes are sorted by (onset, pitch): the last note of each onset group is the highest.
        last = np.r_[self.onset[1:] != self.onset[:-1], True]
        return self.pitch[last]

    def end(self) -> float:
        return float((self.onset + self.duration).max()) if len(self) else 0.0

    def bars(self) -> int:
        return max(1, math.ceil(self.end() / self.bar_length - 1e-9))


def file_format(path: Path) -> str | None:
    return FORMATS.get(Path(path).suffix.lower())


def make_piece(name: str, notes: list[tuple[int, float, float]], bar_length: float) -> Piece:
    notes.sort(key=lambda n: (n[1], n[0]))
    arr = np.asarray(notes, dtype=np.float64).reshape(-1, 3)
    bar = bar_length if bar_length > 0 else DEFAULT_BAR
    return Piece(name, arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2], bar)


# -- reading ----------------------------------------------------------------------------------


def read_pieces(path: Path, limit: int | None = None) -> tuple[list[Piece], list[str]]:
    """Pieces of one file and the reasons any part of it could not be read.

    `limit` keeps at most that many tunes of a multi-tune ABC file, spread evenly across it.
    A file that cannot be read at all gives ([], [reason]).
    """
    path = Path(path)
    fmt = file_format(path)
    if fmt is None:
        return [], [f"unsupported file type {path.suffix or '(none)'}"]
    if fmt == "midi":
        try:
            return [midi_piece(path)], []
        except DataError as e:
            return [], [str(e)]
    if fmt == "abc":
        return _abc_pieces(path, limit)
    try:
        score = parse_music21(path)
        if fmt == "kern":
            return _kern_pieces(score, path)
        return [music21_piece(score, str(path))], []
    except DataError as e:
        return [], [str(e)]


def _kern_pieces(score, path: Path) -> tuple[list[Piece], list[str]]:
    """One piece per spine (music21 part): a **kern piece is a melody, as the kern tokenizer
    reads it, so a 4-voice Palestrina mass compares with generated melodies voice by voice."""
    parts = list(getattr(score, "parts", []))
    if len(parts) <= 1:
        return [music21_piece(score, str(path))], []
    pieces, errors = [], []
    for i, part in enumerate(parts, 1):
        try:
            pieces.append(music21_piece(part, f"{path}#{i}"))
        except DataError as e:
            errors.append(f"spine {i}: {e}")
    return pieces, errors


def abc_tunes(text: str) -> list[str]:
    """The `X:` tunes of an ABC text; a text without any `X:` line is taken as one tune."""
    parts = [p for p in _TUNE_START.split(text) if p.startswith("X:")]
    return parts or [text]


def read_text(path: Path) -> str:
    data = Path(path).read_bytes()
    if b"\x00" in data:
        raise DataError(f"{path} is binary, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _abc_pieces(path: Path, limit: int | None) -> tuple[list[Piece], list[str]]:
    try:
        tunes = abc_tunes(read_text(path))
    except (OSError, DataError) as e:
        return [], [str(e)]
    chosen = evenly(list(range(len(tunes))), limit) if limit else range(len(tunes))
    pieces, errors = [], []
    for i in chosen:
        name = str(path) if len(tunes) == 1 else f"{path}#{i + 1}"
        try:
            pieces.append(music21_piece(parse_music21(tunes[i], "abc"), name))
        except DataError as e:
            errors.append(f"tune {i + 1}: {e}" if len(tunes) > 1 else str(e))
    return pieces, errors


def evenly(items: Sequence[Any], n: int | None) -> list[Any]:
    """At most `n` items spread evenly over `items` (first and last included); deterministic."""
    if n is None or len(items) <= n:
        return list(items)
    if n <= 1:
        return list(items[:n])
    idx = np.unique(np.round(np.linspace(0, len(items) - 1, n)).astype(int))
    return [items[i] for i in idx]


# -- MIDI -------------------------------------------------------------------------------------


def midi_piece(path: Path) -> Piece:
    """Notes of every non-drum instrument of a MIDI file, timed in beats from its ticks."""
    import pretty_midi

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pretty_midi warns about meta events on any track
            pm = pretty_midi.PrettyMIDI(str(path))
    except Exception as e:  # noqa: BLE001 - mido and pretty_midi raise many types on bad files
        raise DataError(
            f"pretty_midi cannot load it: {type(e).__name__}: {_first_line(e)}"
        ) from None

    def beats(seconds: float) -> float:  # ticks are tempo-free: ticks / resolution = beats
        return pm.time_to_tick(seconds) / pm.resolution

    notes = [
        (n.pitch, beats(n.start), beats(n.end) - beats(n.start))
        for inst in pm.instruments
        if not inst.is_drum
        for n in inst.notes
    ]
    if not notes:
        raise DataError("the MIDI file has no notes")
    bar = DEFAULT_BAR
    if pm.time_signature_changes:
        ts = pm.time_signature_changes[0]
        bar = ts.numerator * 4.0 / ts.denominator
    return make_piece(str(path), notes, bar)


# -- music21 ----------------------------------------------------------------------------------


def parse_music21(source: str | Path, fmt: str | None = None):
    """music21 parse of a file or (with `fmt`) of text, quietly; failures become DataError."""
    from music21 import converter

    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            if isinstance(source, Path):
                return converter.parse(str(source), forceSource=True)
            return converter.parse(source, format=fmt)
    except Exception as e:  # noqa: BLE001 - music21 raises many unrelated types on bad input
        raise DataError(f"music21 cannot parse it: {type(e).__name__}: {_first_line(e)}") from None


def music21_score(path: Path):
    """A music21 stream of a file; for a multi-tune ABC file, its first tune."""
    path = Path(path)
    if file_format(path) == "abc":
        return parse_music21(abc_tunes(read_text(path))[0], "abc")
    return parse_music21(path)


def music21_piece(score, name: str) -> Piece:
    """Notes of a parsed music21 stream (all parts), tied notes merged, grace notes dropped."""
    from music21 import harmony, meter

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            score.stripTies(inPlace=True)  # callers hand over a score parsed for this alone
            flat = score.flatten()
            notes = []
            for el in flat.notes:
                if isinstance(el, harmony.Harmony):  # chord symbols are labels, not sounding notes
                    continue
                dur = float(el.quarterLength)
                if dur <= 0:  # grace notes take no time
                    continue
                onset = float(el.offset)
                notes.extend((p.midi, onset, dur) for p in el.pitches)
            sigs = flat.getElementsByClass(meter.TimeSignature)
            bar = float(sigs[0].barDuration.quarterLength) if len(sigs) else DEFAULT_BAR
    except Exception as e:  # noqa: BLE001 - music21 can fail late, on odd streams
        raise DataError(
            f"music21 cannot read its notes: {type(e).__name__}: {_first_line(e)}"
        ) from None
    if not notes:
        raise DataError("no notes")
    return make_piece(name, notes, bar)


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0][:160] if text else ""
