"""**kern to MIDI: a file of one **kern spine (what mgen writes) read note by note, tied notes
joined, at its `*MM` tempo; any other file through music21."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

from mgen.core.contracts.errors import DataError
from mgen.formats.kern.humdrum import kern_duration, kern_midi

DEFAULT_BPM = 120.0  # a file without `*MM`, as music21 reads it
VELOCITY = 90
_NOTE = re.compile(r"^(?P<open>\[?)(?P<recip>\d+\.*)(?:(?P<pitch>([a-gA-G])\4*)(?P<acc>#+|-+)?|r)"
                   r"(?P<tie>[_\]]?)$")  # fmt: skip
_TEMPO = re.compile(r"^\*MM(\d+(?:\.\d*)?)$")

#: One note: [MIDI pitch, onset, end] in quarter notes.
Note = list


def one_spine(text: str) -> tuple[float, list[Note]] | None:
    """(tempo, notes) of a file of one **kern spine of plain notes, rests and ties; None for
    anything else (several spines, chords, ornaments), which music21 reads instead."""
    bpm, now, notes, held = None, Fraction(0), [], {}
    for line in text.splitlines():
        if "\t" in line or (line.startswith("**") and line != "**kern"):
            return None
        if line.startswith(("!", "=", "**")) or line in ("", ".", "*-"):
            continue
        if line.startswith("*"):
            found = _TEMPO.match(line)
            bpm = float(found[1]) if found and bpm is None else bpm
            continue
        m = _NOTE.match(line)
        if m is None:
            return None
        length = kern_duration(m["recip"]) * 4  # whole notes -> quarters
        if m["pitch"]:
            pitch = kern_midi(m["pitch"], m["acc"])
            if m["tie"] and pitch in held:
                held[pitch][2] = now + length  # the tie goes on: the note lasts longer
            else:
                held = {pitch: [pitch, now, now + length]}
                notes.append(held[pitch])
            held = held if (m["open"] or m["tie"] == "_") else {}
        now += length
    return (bpm or DEFAULT_BPM), notes


def kern_to_midi(path: Path, out: Path) -> Path:
    """Write the **kern file at `path` as MIDI at `out` (one piano track)."""
    from mgen.formats.abc.notes import read_text

    text = read_text(Path(path))
    read = one_spine(text)
    if read is None:
        from mgen.formats.m21 import write_midi

        return write_midi(text, "humdrum", Path(out))
    bpm, notes = read
    if not notes:
        raise DataError("no notes to write")
    meter = re.search(r"^\*M(\d+)/(\d+)\s*$", text, re.M)  # the spine's first meter, as written
    return _write(notes, bpm, Path(out), (int(meter[1]), int(meter[2])) if meter else (4, 4))


def _write(notes: list[Note], bpm: float, out: Path, meter: tuple[int, int] = (4, 4)) -> Path:
    """The notes as a one-track score at `bpm` in `meter`, written by the one MIDI writer."""
    from mgen.formats.midi.write import write_midi
    from mgen.formats.score import Score, Track

    kept = [(p, float(s), float(e - s)) for p, s, e in notes if 0 <= p <= 127]
    track = Track(pitch=[p for p, _, _ in kept], onset=[s for _, s, _ in kept],
                  duration=[d for _, _, d in kept], velocity=[VELOCITY] * len(kept))  # fmt: skip
    return write_midi(
        Score(
            Path(out).stem,
            [track],
            tempos=[[0.0, bpm]],
            meters=[[0.0, float(meter[0]), float(meter[1])]],
            fmt="kern",
        ),
        out,
    )
