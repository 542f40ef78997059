"""The notes of a MIDI file, read with pretty_midi: what `mgen eval` and `mgen render` judge."""

from __future__ import annotations

import warnings
from pathlib import Path

from mgen.core.contracts.errors import DataError
from mgen.formats.score import DEFAULT_BAR, Piece, make_piece


def midi_piece(path: Path, name: str | None = None) -> Piece:
    """Notes of every non-drum instrument of a MIDI file, timed in beats from its ticks
    (tempo-free), with the bar length of its first time signature. Named `name` or the path."""
    import pretty_midi

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pretty_midi warns about meta events on any track
            pm = pretty_midi.PrettyMIDI(str(path))
    except Exception as e:  # noqa: BLE001 - mido and pretty_midi raise many types on bad files
        text = str(e).strip().splitlines()
        why = text[0][:160] if text else ""
        raise DataError(f"pretty_midi cannot load it: {type(e).__name__}: {why}") from None

    def beats(seconds: float) -> float:  # ticks / resolution = beats, whatever the tempo
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
    return make_piece(name or str(path), notes, bar)
