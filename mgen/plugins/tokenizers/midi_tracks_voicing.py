"""midi-tracks' voice-leading rule `no-parallels`: a grammar rule (mgen.core.contracts.grammar,
`Grammar.with_rule`) that forbids a pitch which would make parallel fifths or octaves with a
voice already written at the same onset.

The rule is the one `mgen eval` counts (mgen.evaluate.voices): two tracks' lines (the highest
pitch of each at each onset), at consecutive onsets both share, moving the same way and a fifth
(7 semitones modulo 12) or an octave (0 modulo 12) apart at both. At an onset the notes come
track by track, so the later track of each pair is the one constrained: when track v is to
write a pitch at onset `now` and track w already has one there (q), with (p', q') the two
tracks' pitches at their last shared onset before `now`, pitch p is refused where
|p - q| % 12 == |p' - q'| % 12 in {0, 7} and p - p' moves the same way as q - q'. Drum tracks
are left alone. A row where the rule would leave no pitch that the grammar allows keeps the
grammar's own mask (never seen with four voices: a rule refuses at most two pitch classes in
one direction). With `intervals`, where the pitch follows from an interval token, the
intervals that lead to a refused pitch are refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mgen.core.contracts.grammar import Grammar

FIFTH, OCTAVE = 7, 0
BAR = 1 << 20  # timing=bars: an onset is bar * BAR + position (only order and equality matter)
HISTORY = 64  # onsets remembered per track: a shared onset further back is not looked for
RULE = "no-parallels"
DESCRIPTION = "no parallel fifths or octaves between tracks at the onsets they share"


class NoParallels(Grammar):
    """`inner` (a MidiTracksGrammar) with the rule: the onset of each sample, and for each
    track its line so far ({onset: highest pitch}, the last HISTORY onsets)."""

    def __init__(self, inner: Any):
        super().__init__(inner.vocab, inner.k)
        self.inner = inner
        c = inner.code
        self.codes = {k: c[k] for k in ("shift", "bar", "pos", "pitch", "drum")}
        self.pitch_ids = np.flatnonzero(inner.kind == c["pitch"])  # [P]: the pitch tokens
        self.pitches = inner.value[self.pitch_ids]  # [P]: their MIDI numbers
        self.interval_ids = np.flatnonzero(inner.kind == c["interval"])  # [I]: interval tokens
        self.moves = inner.value[self.interval_ids]  # [I]: their semitones
        self.now = np.zeros(self.k, dtype=np.int64)  # [K]: the onset in force
        self.bars = np.full(self.k, -1, dtype=np.int64)  # [K]: bars begun (timing=bars)
        self.lines: list[dict[int, dict[int, int]]] = [{} for _ in range(self.k)]

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # not set yet: no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)  # the state others read (the track in force, ...)

    def allowed(self) -> np.ndarray:
        mask = self.inner.allowed()  # [K, V]
        ids = np.r_[self.pitch_ids, self.interval_ids]
        for row in np.flatnonzero(mask[:, ids].any(axis=1)):
            refused = self._refused(int(row))  # [128] over MIDI numbers
            if refused is None:
                continue
            track = int(self.inner.track[row])
            to = int(self.inner.before[row, track]) + self.moves if len(self.moves) else self.moves
            leads = np.r_[refused[self.pitches], refused[np.clip(to, 0, 127)] & (to >= 0)]
            keep = mask[row, ids] & ~leads
            if keep.any():
                mask[row, ids] = keep
        return mask

    def _refused(self, row: int) -> np.ndarray | None:
        """bool [128]: the MIDI numbers the rule refuses sample `row` now, or None (no pair to
        check)."""
        v, now = int(self.inner.track[row]), int(self.now[row])
        lines = self.lines[row]
        if v < 0 or self.inner.drums[row, v] or v not in lines:
            return None
        refused, pitches = np.zeros(128, dtype=bool), np.arange(128)
        for w, line in lines.items():
            if w == v or now not in line:
                continue
            before = [s for s in lines[v] if s < now and s in line]
            if not before:
                continue
            s = max(before)
            p0, q0, q = lines[v][s], line[s], line[now]
            interval = abs(p0 - q0) % 12
            if interval not in (FIFTH, OCTAVE) or q == q0:
                continue
            same_way = np.sign(pitches - p0) == np.sign(q - q0)
            refused |= same_way & (np.abs(pitches - q) % 12 == interval)
        return refused

    def advance(self, ids: np.ndarray) -> None:
        inner, c = self.inner, self.codes
        kind, value = inner.kind[ids], inner.value[ids]
        self.now = np.where(kind == c["shift"], self.now + value, self.now)
        self.bars = np.where(kind == c["bar"], self.bars + 1, self.bars)
        self.now = np.where(kind == c["bar"], self.bars * BAR, self.now)
        self.now = np.where(kind == c["pos"], self.bars * BAR + value, self.now)
        inner.advance(ids)
        for row in np.flatnonzero(kind == c["pitch"]):
            track = int(inner.track[row])
            line = self.lines[row].setdefault(track, {})
            line[int(self.now[row])] = int(value[row])  # ascending: the last is the highest
            if len(line) > HISTORY:
                del line[min(line)]
