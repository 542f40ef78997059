"""A synthetic Lakh-like multi-track MIDI corpus for the scale section, written fast.

Each file (type 1) is a conductor track (tempo, time signature, key; a tempo change midway in a
quarter of the files) and one track per instrument, named, with a program change at its start:
drums on channel 10 (kick, snare, hi-hats, crashes), a bass line on the chords' roots, block
chords, a melody, and 0-8 more of pad, arpeggio, counter-melody, strings, brass stabs and a
second percussion part. In a third of the files one instrument changes program halfway (as Lakh's
files often do), which a reader makes into a track of its own: every file reads as 4 to 12
tracks. 8-16 bars of 4/4 or 3/4 at a resolution drawn from common ones.

Each file depends only on (seed, its number), so a corpus is the same on every machine and any
file can be made again alone. The bytes are built with numpy (see `synthetic._events`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mgen.bench.synthetic import FILES_PER_SHARD, _events

_RESOLUTIONS = (96, 384, 480)
MIN_TRACKS, MAX_TRACKS = 4, 12
DRUM_CHANNEL = 9  # channel 10, counted from 1
_MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])
_PROGRESSIONS = ((0, 3, 4, 0), (0, 5, 3, 4), (5, 3, 0, 4), (0, 4, 5, 3))  # scale degrees
#: Programs each role draws from (General MIDI, from 0).
_PROGRAMS = {
    "bass": (32, 33, 34, 35, 38), "chords": (0, 4, 16, 24, 27, 89), "melody": (56, 65, 73, 80, 81),
    "pad": (48, 50, 88, 89, 91), "arpeggio": (5, 8, 11, 46), "counter": (40, 68, 71, 26),
    "strings": (48, 49, 44), "brass": (61, 62, 57),
}  # fmt: skip
_EXTRAS = ("pad", "arpeggio", "counter", "strings", "brass", "percussion")


def write_corpus(folder: Path, n_files: int, seed: int = 0) -> list[Path]:
    """`n_files` files under `folder/shard-NNN/`; returns their paths."""
    paths = []
    for i in range(n_files):
        path = folder / f"shard-{i // FILES_PER_SHARD:03d}" / f"song-{i:06d}.mid"
        if i % FILES_PER_SHARD == 0:
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(midi_bytes(np.random.default_rng([seed, i])))
        paths.append(path)
    return paths


def midi_bytes(rng: np.random.Generator) -> bytes:
    """One synthetic song: the conductor track, then a track per instrument."""
    tpq = int(rng.choice(_RESOLUTIONS))
    beats = 3 if rng.random() < 0.2 else 4
    bars = int(rng.integers(8, 17))
    tonic = int(rng.integers(0, 12))
    prog = _PROGRESSIONS[int(rng.integers(len(_PROGRESSIONS)))]
    degrees = np.resize(np.array(prog), bars)  # the scale degree of each bar's chord
    song = _Song(rng, tpq, beats, bars, tonic, degrees)
    n = int(rng.integers(MIN_TRACKS, MAX_TRACKS + 1))
    switch = n > MIN_TRACKS and rng.random() < 1 / 3  # one instrument changes program midway
    roles = ["drums", "bass", "chords", "melody"]
    roles += list(rng.choice(_EXTRAS, size=n - 4 - switch, replace=True))
    tracks = [_conductor(rng, tpq, beats, bars, tonic)]
    channels = [c for c in range(16) if c != DRUM_CHANNEL]
    changer = int(rng.integers(1, len(roles))) if switch else -1
    for i, role in enumerate(roles):
        drum = role in ("drums", "percussion")
        channel = DRUM_CHANNEL if drum else channels[i]
        tracks.append(song.track(role, channel, change=i == changer))
    header = b"MThd" + (6).to_bytes(4, "big") + (1).to_bytes(2, "big")
    header += len(tracks).to_bytes(2, "big") + tpq.to_bytes(2, "big")
    return header + b"".join(b"MTrk" + len(t).to_bytes(4, "big") + t for t in tracks)


class _Song:
    """The shared material of one song; `track` writes one instrument's track bytes."""

    def __init__(self, rng, tpq: int, beats: int, bars: int, tonic: int, degrees: np.ndarray):
        self.rng, self.tpq, self.beats, self.bars = rng, tpq, beats, bars
        self.tonic, self.degrees = tonic, degrees
        self.bar = tpq * beats

    def track(self, role: str, channel: int, change: bool) -> bytes:
        notes = getattr(self, "_" + ("drums" if role == "percussion" else role))()
        onset, length, pitch, vel = (np.asarray(c, dtype=np.int64) for c in notes)
        if role == "percussion":
            pitch = self.rng.choice([39, 54, 56, 60, 61, 69, 70], size=len(pitch))
        program = 0 if channel == DRUM_CHANNEL else int(self.rng.choice(_PROGRAMS.get(role, (0,))))
        name = role.capitalize().encode()
        head = b"\x00\xff\x03" + bytes([len(name)]) + name
        head += bytes([0, 0xC0 | channel, program])
        args = _note_events(onset, np.maximum(length, 1), pitch, vel, channel)
        cut = _silent_cut(args[1]) if change else len(args[0])
        body = _events(*(a[:cut] for a in args))
        if cut < len(args[0]):  # a program change halfway, at the tick of the event before it
            other = int(self.rng.choice([p for p in range(8, 96) if p != program]))
            body += bytes([0, 0xC0 | channel, other]) + _events(*(a[cut:] for a in args))
        return head + body + b"\x00\xff\x2f\x00"

    def _drums(self):
        step = self.tpq // 2  # eighths
        t = np.arange(self.bars * self.beats * 2) * step
        beat = (t // self.tpq) % self.beats
        on_beat = t % self.tpq == 0
        last = t % self.bar == self.bar - step  # an open hi-hat on the bar's last eighth
        hats = np.c_[t, np.full(len(t), step // 2), np.where(last, 46, 42), 60 + 30 * on_beat]
        kick = t[on_beat & (beat % 2 == 0)]
        snare = t[on_beat & (beat % 2 == 1)]
        crash = np.arange(0, self.bars, 4) * self.bar
        rows = [hats, _hits(kick, 36, 110, step), _hits(snare, 38, 100, step),
                _hits(crash, 49, 105, self.tpq)]  # fmt: skip
        out = np.concatenate(rows)
        out[:, 3] = np.clip(out[:, 3] + self.rng.integers(-8, 9, size=len(out)), 1, 127)
        return out.T

    def _bass(self):
        per_bar = self.beats * 2
        t = np.arange(self.bars * per_bar) * (self.tpq // 2)
        root = 36 + np.repeat(self._triads(0)[:, 0], per_bar)
        fifth = np.where(np.arange(len(t)) % 4 == 3, 7, 0)
        return (
            t,
            np.full(len(t), self.tpq // 2 - 2),
            root + fifth,
            self.rng.integers(80, 110, len(t)),
        )

    def _triads(self, octave: int) -> np.ndarray:
        """[bars, 3] each bar's triad (root, third, fifth) as pitch classes above `octave`
        (a C: 60 is middle C's octave)."""
        steps = (self.degrees[:, None] + np.array([0, 2, 4])) % 7
        return octave + (self.tonic + _MAJOR[steps]) % 12

    def _chords(self):
        triads = self._triads(60)
        half = self.bar // 2 if self.beats == 4 else self.bar
        hits = np.arange(0, self.bars * self.bar, half)
        tri = triads[hits // self.bar]
        t = np.repeat(hits, 3)
        return t, np.full(len(t), half - 10), tri.reshape(-1), self.rng.integers(60, 90, len(t))

    def _pad(self):
        tri = self._triads(48)
        t = np.repeat(np.arange(self.bars) * self.bar, 3)
        return t, np.full(len(t), self.bar), tri.reshape(-1), np.full(len(t), 55)

    def _strings(self):
        tri = self._triads(60)[:, [0, 2]] + np.array([12, 12])
        t = np.repeat(np.arange(self.bars) * self.bar, 2)
        return t, np.full(len(t), self.bar - 20), tri.reshape(-1), np.full(len(t), 65)

    def _arpeggio(self):
        tri = self._triads(72)
        step = self.tpq // 4
        t = np.arange(self.bars * self.beats * 4) * step
        pitch = tri[t // self.bar, np.arange(len(t)) % 3]
        return t, np.full(len(t), step), pitch, self.rng.integers(50, 80, len(t))

    def _brass(self):
        tri = self._triads(60)
        t = np.repeat(np.arange(self.bars) * self.bar + self.tpq, 3)
        return t, np.full(len(t), self.tpq // 2), tri.reshape(-1), np.full(len(t), 100)

    def _melody(self):
        return self._line(72, (1, 1, 2, 2, 2, 4))

    def _counter(self):
        return self._line(60, (2, 4, 4, 8))

    def _line(self, octave: int, eighths: tuple[int, ...]):
        """A stepwise line in the song's key from its tonic above `octave` (a C), in note
        values of `eighths`."""
        total = self.bars * self.beats * 2
        lengths = self.rng.choice(eighths, size=total)
        starts = np.cumsum(lengths) - lengths
        keep = starts < total
        starts, lengths = starts[keep], np.minimum(lengths[keep], total - starts[keep])
        steps = np.clip(np.cumsum(self.rng.integers(-2, 3, size=len(starts))), -4, 9)
        pitch = octave + self.tonic % 12 + _MAJOR[steps % 7] + 12 * (steps // 7)
        half = self.tpq // 2
        return starts * half, lengths * half - 5, pitch, self.rng.integers(70, 115, len(starts))


def _silent_cut(status: np.ndarray) -> int:
    """The first event from halfway on before which no note sounds (every note is then one
    program's, whichever reader): where the program change goes; past the end if none."""
    sounding = np.cumsum(np.where(status & 0xF0 == 0x90, 1, -1))
    half = len(status) // 2
    quiet = np.flatnonzero(sounding[half - 1 : -1] == 0) if half else []
    return half + int(quiet[0]) if len(quiet) else len(status)


def _hits(times: np.ndarray, note: int, velocity: int, length: int) -> np.ndarray:
    n = len(times)
    return np.c_[times, np.full(n, length // 2), np.full(n, note), np.full(n, velocity)]


def _note_events(onset, length, pitch, vel, channel: int) -> tuple[np.ndarray, ...]:
    """(delta, status, pitch, velocity) of the note-ons and -offs in time order (offs first)."""
    n, cat = len(onset), np.concatenate
    times = cat([onset, onset + length])
    off = np.arange(2 * n) >= n
    status = np.where(off, 0x80 | channel, 0x90 | channel)
    data2 = cat([vel, np.zeros(n, dtype=np.int64)])
    idx = np.lexsort((~off, times))
    times = times[idx]
    return (
        cat([times[:1], times[1:] - times[:-1]]),
        status[idx],
        cat([pitch, pitch])[idx],
        data2[idx],
    )


def _conductor(rng: np.random.Generator, tpq: int, beats: int, bars: int, tonic: int) -> bytes:
    """Tempo, time signature and key at the start; in a quarter of the files a tempo change at
    the middle bar."""
    sharps = (tonic * 7 + 5) % 12 - 5  # the major key's sharps (flats negative), -5..6
    out = _tempo(rng, 0)
    out += b"\x00\xff\x58\x04" + bytes([beats, 2, 24, 8])
    out += b"\x00\xff\x59\x02" + bytes([sharps & 0xFF, 0])
    if rng.random() < 0.25:
        out += _tempo(rng, (bars // 2) * beats * tpq)
    return out + b"\x00\xff\x2f\x00"


def _tempo(rng: np.random.Generator, delta: int) -> bytes:
    bpm = float(rng.uniform(70, 180))
    return _vlq(delta) + b"\xff\x51\x03" + int(60e6 / bpm).to_bytes(3, "big")


def _vlq(value: int) -> bytes:
    out = [value & 0x7F]
    while value > 0x7F:
        value >>= 7
        out.append(0x80 | (value & 0x7F))
    return bytes(reversed(out))
