"""One written sample as the page shows it: notation (SVG engraved by verovio), the notes for
the piano roll and the player, and a primer text that continues it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mgen.core.contracts.errors import MgenError, one_line
from mgen.core.contracts.tokenizer import Tokenizer
from mgen.core.sampling.primer import primer_text

VEROVIO_TEXT = {".abc", ".krn"}  # formats verovio reads as they are written
MAX_NOTES = 5000  # notes sent for the roll and the player
VEROVIO_OPTIONS = {
    "pageWidth": 2200,
    "pageHeight": 60000,
    "adjustPageHeight": True,
    "scale": 35,
    "header": "none",
    "footer": "none",
    "breaks": "auto",
}


def engrave(text: str) -> str | None:
    """`text` (ABC, Humdrum **kern or MusicXML) as SVG; None when verovio cannot read it
    (it runs in a child process: some malformed input makes it abort its process)."""
    from mgen.evaluate import verovio_box

    status, svg = verovio_box.run(text, VEROVIO_OPTIONS)
    return svg if status == verovio_box.OK else None


def musicxml(native: Path, midi: Path | None, out: Path) -> Path:
    """The sample as MusicXML at `out` (made once): from its MIDI through music21."""
    if not out.is_file():
        from mgen.evaluate.render import render_musicxml

        render_musicxml(midi or native, out)
    return out


def notation(native: Path, midi: Path | None) -> tuple[str | None, str]:
    """(SVG or None, a note for the page): the native text engraved where verovio reads it,
    else the sample's MusicXML (through music21) engraved."""
    why = ""
    if native.suffix in VEROVIO_TEXT:
        svg = engrave(native.read_text(encoding="utf-8", errors="replace"))
        if svg:
            return svg, ""
        why = f"verovio cannot read this {native.suffix} file; "
    try:
        xml = musicxml(native, midi, native.with_suffix(".musicxml"))
        svg = engrave(xml.read_text(encoding="utf-8"))
    except MgenError as e:
        return None, f"{why}no notation ({one_line(e, 160)}): the piano roll shows its notes"
    except Exception as e:  # noqa: BLE001 - music21 and verovio fail in many ways on odd music
        return None, f"{why}no notation ({one_line(e, 160)}): the piano roll shows its notes"
    if svg is None:
        why += "verovio cannot engrave its MusicXML"
        return None, f"{why}: the piano roll shows its notes"
    return svg, f"{why}engraved from its MusicXML" if why else ""


def notes(midi: Path | None) -> list[list[float]]:
    """[[pitch, start s, end s, velocity], ...] of every sounding pitched note, by start: the
    notes of the sample's score (mgen's MIDI reader), timed in seconds by its tempo map."""
    return played(midi)["notes"]


def played(midi: Path | None) -> dict[str, Any]:
    """What the piano roll and the player take of a sample's MIDI: `notes` (as `notes` says)
    with `note_tracks`, each note's track (an index into `tracks`); `tracks`, each track's
    name, General MIDI program, instrument name and drum flag; `drums`, the drum tracks' hits
    as [[drum note, start s, end s, velocity, track], ...]."""
    empty: dict[str, Any] = {"notes": [], "note_tracks": [], "tracks": [], "drums": []}
    if midi is None:
        return empty
    from mgen.formats.midi.read import read_midi

    try:
        score = read_midi(midi)
    except Exception:  # noqa: BLE001 - an unreadable file simply has no notes to show
        return empty
    pitched = _timed(score, [i for i, t in enumerate(score.tracks) if not t.is_drum], False)
    drums = _timed(score, [i for i, t in enumerate(score.tracks) if t.is_drum], True)
    return {
        "notes": [n[:4] for n in pitched],
        "note_tracks": [int(n[4]) for n in pitched],
        "tracks": [_track(t) for t in score.tracks],
        "drums": drums,
    }


def _timed(score: Any, which: list[int], drums: bool) -> list[list[float]]:
    """[[pitch, start s, end s, velocity, track], ...] of the tracks `which`, by onset then
    pitch (as the score's sounding notes are), at most MAX_NOTES; pitched notes that last,
    every drum hit (a hit of no length is drawn and played short)."""
    tracks = [score.tracks[i] for i in which]
    if not tracks:
        return []
    cols = {c: np.concatenate([getattr(t, c) for t in tracks]) for c in ("pitch", "onset",
            "duration", "velocity")}  # fmt: skip
    index = np.concatenate([np.full(len(t), i) for i, t in zip(which, tracks, strict=True)])
    keep = cols["duration"] >= 0 if drums else cols["duration"] > 0
    order = np.lexsort((cols["pitch"], cols["onset"]))
    order = order[keep[order]][:MAX_NOTES]
    onset, end = cols["onset"][order], cols["onset"][order] + cols["duration"][order]
    start = np.round(score.seconds(onset), 4).tolist()
    stop = np.round(score.seconds(end), 4).tolist()
    rows = zip(cols["pitch"][order].tolist(), start, stop, cols["velocity"][order].tolist(),
               index[order].tolist(), strict=True)  # fmt: skip
    return [list(row) for row in rows]


def live_notes(notes: list[Any], tokens: int) -> dict[str, Any]:
    """A stream's notes (mgen.api.Note) as the roll and the player take them, as `played`
    gives a sample's: pitched notes [[pitch, start s, end s, velocity], ...] with each one's
    track and whether it is the primer's, drum hits [[note, start, end, velocity, track], ...]; and the tokens sampled so far."""
    pitched = [n for n in notes if not n.drum]
    return {
        "notes": [[n.pitch, n.start, n.end, n.velocity] for n in pitched],
        "note_tracks": [n.track for n in pitched],
        "primer": [n.primer for n in pitched],  # a note of the primer (the phrase played)
        "drums": [[n.pitch, n.start, n.end, n.velocity, n.track] for n in notes if n.drum],
        "parts": {n.track: n.part for n in notes if n.part},
        "tokens": tokens,
    }


def _track(track: Any) -> dict[str, Any]:
    """A track as the legend names it: its own name, its GM instrument, its drum flag."""
    from mgen.formats.midi import gm

    instrument = "Drums" if track.is_drum else gm.program_name(track.program)
    return {"name": track.name, "program": int(track.program), "instrument": instrument,
            "drum": bool(track.is_drum)}  # fmt: skip


def sample_view(index: int, tok: Tokenizer, tokens: list[str], files: list[Path]) -> dict[str, Any]:
    """Everything the page shows of sample `index` (1-based) from its written files."""
    native = files[0]
    midi = next((f for f in files if f.suffix == ".mid"), None)
    svg, note = notation(native, midi)
    note = note.replace(f"{native.parent}/", "")  # the server's folders are its own business
    text = None
    if native.suffix != ".mid":
        text = native.read_text(encoding="utf-8", errors="replace")
    roll = played(midi)
    return {
        "index": index,
        "tokens": len(tokens),
        "text": text,
        "svg": svg,
        "notation_note": note,
        "notes": roll["notes"],
        "seconds": max((n[2] for n in roll["notes"] + roll["drums"]), default=0.0),
        "primer": primer_text(tok, tokens),
        "formats": {"native": native.suffix, "midi": midi is not None},
        "note_tracks": roll["note_tracks"],  # the track of each of `notes`
        "tracks": roll["tracks"],
        "drums": roll["drums"],
    }
