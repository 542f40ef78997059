"""Fuzz inputs in the MIDI format for midi-notes, midi-chords and midi-tracks (tools/fuzz/strategies.py).

Standard MIDI Files built byte by byte: zero-length, overlapping and extreme notes, tempo and
time-signature changes, no notes, running status, bad data bytes, lying chunk lengths.
hypothesis is a test-only dependency: nothing here imports it. Each function receives the
`hypothesis.strategies` module as `st` and builds its strategies from it.
"""

from __future__ import annotations

from typing import Any

#: Ticks per quarter; 0 and values with the top bit set (SMPTE timing) included.
_DIVISIONS = [96, 384, 480, 1, 0, 0x7FFF, 0xE728]


def vlq(n: int) -> bytes:
    """MIDI variable-length quantity (7 bits a byte, high bit = more)."""
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def meta(kind: int, payload: bytes) -> bytes:
    return bytes([0xFF, kind]) + vlq(len(payload)) + payload


def strategy(st: Any) -> Any:
    """Generated MIDI files, or one of the named cases."""
    return st.one_of(midi_bytes(st), st.sampled_from(list(named_cases().values())))


# Each kind of track event (after its delta time), valid or deliberately broken:
# (draw, st, channel, pitch, velocity) -> bytes.
_EVENTS = {
    "on": lambda draw, st, ch, p, v: bytes([0x90 | ch, p, v]),
    "off": lambda draw, st, ch, p, v: bytes([0x80 | ch, p, 0]),
    "zero-length": lambda draw, st, ch, p, v: bytes([0x90 | ch, p, v or 64, 0, 0x80 | ch, p, 0]),
    # the same pitch struck twice before one release
    "overlap": lambda draw, st, ch, p, v: bytes(
        [0x90 | ch, p, v or 64, 0x10, 0x90 | ch, p, v or 64, 0x10, 0x80 | ch, p, 0]
    ),
    # microseconds per quarter, 0 and 0xFFFFFF included
    "tempo": lambda draw, st, ch, p, v: meta(
        0x51, draw(st.integers(0, 0xFFFFFF)).to_bytes(3, "big")
    ),
    # numerator, log2 denominator (0..255), clocks, 32nds
    "timesig": lambda draw, st, ch, p, v: meta(0x58, draw(st.binary(min_size=4, max_size=4))),
    "keysig": lambda draw, st, ch, p, v: meta(0x59, draw(st.binary(min_size=2, max_size=2))),
    "program": lambda draw, st, ch, p, v: bytes([0xC0 | ch, draw(st.integers(0, 127))]),
    "bend": lambda draw, st, ch, p, v: bytes(
        [0xE0 | ch, draw(st.integers(0, 127)), draw(st.integers(0, 127))]
    ),
    "text": lambda draw, st, ch, p, v: meta(draw(st.integers(1, 9)), draw(st.binary(max_size=40))),
    "sysex": lambda draw, st, ch, p, v: b"\xf0" + vlq(3) + b"\x7e\x7f\xf7",
    # running status: data bytes with no status byte of their own
    "running": lambda draw, st, ch, p, v: bytes([0x90 | ch, p, v or 64, 0, p, 0]),
    # a data byte >= 128 where 0..127 must be
    "bad-data": lambda draw, st, ch, p, v: bytes([0x90 | ch, 0x80 | p, v]),
    "end": lambda draw, st, ch, p, v: meta(0x2F, b""),
}


def _event(draw: Any, st: Any) -> bytes:
    """One track event with its delta time, or a few raw bytes."""
    kind = draw(st.sampled_from([*_EVENTS, "raw"]))
    if kind == "raw":
        return draw(st.binary(min_size=1, max_size=12))
    ch = draw(st.integers(0, 15))
    pitch = draw(st.one_of(st.integers(0, 127), st.sampled_from([0, 127, 20, 109])))
    vel = draw(st.sampled_from([0, 1, 64, 127]))
    delta = vlq(draw(st.one_of(st.integers(0, 960), st.sampled_from([0, 0x0FFFFFFF]))))
    return delta + _EVENTS[kind](draw, st, ch, pitch, vel)


def _track(draw: Any, st: Any) -> bytes:
    body = b"".join(_event(draw, st) for _ in range(draw(st.integers(0, 40))))
    if draw(st.booleans()):
        body += b"\x00" + meta(0x2F, b"")
    size = len(body) if draw(st.integers(0, 5)) else draw(st.integers(0, 0xFFFFFFFF))
    return b"MTrk" + size.to_bytes(4, "big") + body


def midi_bytes(st: Any) -> Any:
    """A Standard MIDI File built byte by byte, with honest or lying header and chunk sizes."""

    @st.composite
    def build(draw: Any) -> bytes:
        tracks = [_track(draw, st) for _ in range(draw(st.integers(0, 4)))]
        fmt = draw(st.sampled_from([0, 1, 1, 2, 3]))
        declared = len(tracks) if draw(st.integers(0, 4)) else draw(st.integers(0, 0xFFFF))
        division = draw(st.one_of(st.sampled_from(_DIVISIONS), st.integers(0, 0xFFFF)))
        header = b"MThd" + (6).to_bytes(4, "big")
        header += b"".join(x.to_bytes(2, "big") for x in (fmt, declared, division))
        trailer = draw(st.one_of(st.just(b""), st.binary(max_size=16)))
        return header + b"".join(tracks) + trailer

    return build()


def midi_file(*events: bytes, division: int = 480) -> bytes:
    """A one-track format-1 file of `events` (each with its delta time) and an end of track."""
    body = b"".join(events) + b"\x00" + meta(0x2F, b"")
    head = b"MThd" + (6).to_bytes(4, "big") + b"\x00\x00\x00\x01" + division.to_bytes(2, "big")
    return head + b"MTrk" + len(body).to_bytes(4, "big") + body


def _on(pitch: int, delta: int = 0) -> bytes:
    return vlq(delta) + bytes([0x90, pitch, 80])


def _off(pitch: int, delta: int = 0) -> bytes:
    return vlq(delta) + bytes([0x80, pitch, 0])


def named_cases() -> dict[str, bytes]:
    """Hand-built MIDI files of the kinds users actually meet, and broken ones."""
    midi, on, off = midi_file, _on, _off
    one_note = midi(on(60), off(60, 480))
    return {
        "no tracks": midi()[:14],
        "no notes": midi(),
        "only meta events": midi(meta(0x51, b"\x07\xa1\x20"), meta(0x03, b"name")),
        "zero-length notes": midi(on(60), off(60), on(64), off(64)),
        "overlapping notes": midi(on(60), on(60, 10), off(60, 10), off(60, 10)),
        "note never released": midi(on(60), on(64, 100)),
        "release without a note": midi(off(60), off(61, 10)),
        "pitch 0 and 127": midi(on(0), on(127), off(0, 480), off(127)),
        "velocity-0 note-ons": midi(on(60), vlq(480) + bytes([0x90, 60, 0])),
        "tempo and time-signature changes": midi(
            meta(0x51, b"\x07\xa1\x20"), meta(0x58, b"\x03\x02\x18\x08"), on(60),
            off(60, 480), vlq(0) + meta(0x51, b"\x00\x00\x01"),
            meta(0x58, b"\x07\x03\x18\x08"), on(62), off(62, 240),
            vlq(0) + meta(0x51, b"\xff\xff\xff"), on(64), off(64, 960),
        ),  # fmt: skip
        "tempo 0": midi(meta(0x51, b"\x00\x00\x00"), on(60), off(60, 480)),
        "time signature 0/0": midi(meta(0x58, b"\x00\x00\x00\x00"), on(60), off(60, 480)),
        "huge time signature denominator": midi(meta(0x58, b"\x04\xff\x18\x08"), on(60), off(60, 1)),
        "division 0": midi(on(60), off(60, 480), division=0),
        "SMPTE division": midi(on(60), off(60, 480), division=0xE728),
        "huge delta time": midi(on(60), off(60, 0x0FFFFFFF)),
        "drums only": midi(vlq(0) + bytes([0x99, 36, 90]), vlq(480) + bytes([0x89, 36, 0])),
        "data byte above 127": midi(vlq(0) + bytes([0x90, 200, 80]), off(60, 480)),
        "chunk length lies": one_note[:22] + b"\xff\xff\xff\xff" + one_note[26:],
        "truncated": one_note[:-6],
    }  # fmt: skip
