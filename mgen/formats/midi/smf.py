"""A strict Standard MIDI File reader of its own, one of the independent MIDI readers of the judge.

It reads the bytes as the SMF 1.0 specification lays them out, owing nothing to mido or
pretty_midi: the `MThd` header (length 6, format 0-2, track count, a non-zero division), then
every chunk: an `MTrk` must fit in the file and hold events that end exactly at its end, each
with a variable-length delta time, a status byte (or running status after a channel message),
data bytes below 128, meta events and SysEx with their lengths, and an end-of-track meta event
last. It counts the sounding notes: note-ons with a velocity above 0.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

#: Data bytes per channel-message kind (status high nibble).
_DATA_BYTES = {0x8: 2, 0x9: 2, 0xA: 2, 0xB: 2, 0xC: 1, 0xD: 1, 0xE: 2}


@dataclass
class SmfReport:
    tracks: int = 0
    notes: int = 0  # note-ons with velocity > 0
    problems: list[str] = field(default_factory=list)


class _Truncated(Exception):
    pass


def _vlq(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """A variable-length quantity at `pos`: (value, next position)."""
    value = 0
    for _ in range(4):
        if pos >= end:
            raise _Truncated
        byte = data[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos
    raise ValueError("a variable-length number longer than 4 bytes")


def read_smf(data: bytes) -> SmfReport:
    """Check a whole file's bytes; every problem found, one line each."""
    out = SmfReport()
    if len(data) < 14 or data[:4] != b"MThd":
        out.problems.append("no MThd header: not a Standard MIDI File")
        return out
    length, fmt, ntracks, division = struct.unpack(">IHHH", data[4:14])
    if length != 6 or fmt > 2 or division == 0:
        out.problems.append(f"bad header (length {length}, format {fmt}, division {division})")
        return out
    pos = 8 + length
    while pos < len(data) and not out.problems:
        if pos + 8 > len(data):
            out.problems.append(f"truncated: {len(data) - pos} stray bytes after the last chunk")
            break
        kind, size = data[pos : pos + 4], struct.unpack(">I", data[pos + 4 : pos + 8])[0]
        start, pos = pos + 8, pos + 8 + size
        if pos > len(data):
            out.problems.append(
                f"truncated: track {out.tracks + 1} claims {size} bytes, {len(data) - start} remain"
            )
            break
        if kind == b"MTrk":
            out.tracks += 1
            _track(data, start, pos, out)
    if not out.problems and out.tracks != ntracks:
        out.problems.append(f"the header announces {ntracks} tracks, the file holds {out.tracks}")
    return out


def _track(data: bytes, pos: int, end: int, out: SmfReport) -> None:
    """The events of one MTrk chunk."""
    where = f"track {out.tracks}"
    status, ended = 0, False
    try:
        while pos < end:
            if ended:
                raise ValueError("events after the end-of-track event")
            _, pos = _vlq(data, pos, end)
            if pos >= end:
                raise _Truncated
            if data[pos] >= 0x80:
                status, pos = data[pos], pos + 1
            elif status == 0 or status >= 0xF0:
                raise ValueError(f"data byte {data[pos]} without a status")
            pos, ended = _event(data, pos, end, status, out)
    except _Truncated:
        out.problems.append(f"{where}: an event runs past the end of the track (truncated)")
        return
    except ValueError as e:
        out.problems.append(f"{where}: {e}")
        return
    if not ended:
        out.problems.append(f"{where}: no end-of-track event")


def _event(data: bytes, pos: int, end: int, status: int, out: SmfReport) -> tuple[int, bool]:
    """One event after its status byte: (next position, whether it ended the track)."""
    if status == 0xFF:
        if pos >= end:
            raise _Truncated
        meta = data[pos]
        size, pos = _vlq(data, pos + 1, end)
        if pos + size > end:
            raise _Truncated
        return pos + size, meta == 0x2F
    if status in (0xF0, 0xF7):
        size, pos = _vlq(data, pos, end)
        if pos + size > end:
            raise _Truncated
        return pos + size, False
    n = _DATA_BYTES.get(status >> 4)
    if n is None:
        raise ValueError(f"status byte {status:#x} is not allowed in a file")
    if pos + n > end:
        raise _Truncated
    body = data[pos : pos + n]
    if any(b >= 0x80 for b in body):
        raise ValueError(f"a data byte of {status:#x} is 128 or more")
    if status >> 4 == 0x9 and body[1] > 0:
        out.notes += 1
    return pos + n, False
