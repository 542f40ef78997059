"""midi-tracks' infill hooks (mgen.core.contracts.infill): where its beats begin, and a piece put
back together around a new middle.

- `spans`: beats (quarter notes) of the body, as midi-notes counts them: beat k begins with the
  time shifts that lead to its first onset. The header (`tracks_N inst_... tempo_ [meter_]`)
  always stays in the prefix, so an infill never changes the ensemble. Only plain time shifts
  (`timing=shifts`, the default) have beats to cut at.
- `join`: midi-tracks writes a note's `tr` and `v` only where they change, so the suffix's tokens
  depend on what came before them. The piece is put back together as notes, not tokens: the
  prefix, the new middle's notes from the span's first onset (an empty span: from after the
  prefix's last onset) up to the suffix's first onset
  (a middle note the model put earlier, at an onset of the prefix, would change the music
  outside the span: it is dropped), then every note of the suffix at its own time, track and
  velocity (and the tempo and meter marks each part carried), encoded again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mgen.core.contracts.errors import ConfigError
from mgen.plugins.tokenizers.midi_tracks_layout import Layout
from mgen.plugins.tokenizers.midi_tracks_tokens import decode, encode, parse
from mgen.plugins.tokenizers.spans import midi_shift, onset_spans

_HEAD = {"count", "inst"}


def header_length(tokens: list[str]) -> int:
    """How many tokens open the piece as its header: the count, instruments, then the first
    tempo and meter."""
    n = 0
    while n < len(tokens) and (parse(tokens[n]) or ("",))[0] in _HEAD:
        n += 1
    for kind in ("tempo", "meter"):
        if n < len(tokens) and (parse(tokens[n]) or ("",))[0] == kind:
            n += 1
    return n


def _onset(token: str) -> bool:
    return token.isdigit() or (token[:1] == "k" and token[1:].isdigit())


def _own(token: str) -> bool:
    """A token that belongs to the note before it: its duration."""
    return token[:1] == "d" and token[1:].isdigit()


class TracksSpans:
    """Mixin of midi-tracks: `spans` and `join` (see the module's notes)."""

    span_unit = "beat"
    config: Any
    tempo: float

    def spans(self, tokens: list[str]) -> list[tuple[int, int]]:
        if self.config.timing != "shifts":
            raise ConfigError("midi-tracks infills with timing=shifts only (its beats)")
        head = header_length(tokens)
        found = onset_spans(tokens[head:], midi_shift, _onset, self.config.steps_per_beat, _own)
        return [(k, head + o) for k, o in found]

    def join(self, prefix: list[str], middle: list[str], suffix: list[str], old: list[str]):
        c = self.config
        whole = decode([*prefix, *old, *suffix], c, self.tempo)
        first = sum(map(_onset, prefix))  # the index of the old middle's first note
        before = first + sum(map(_onset, old))  # of the suffix's first note
        start = (
            int(whole.onset[first])
            if first < before  # the span's first onset, else
            else sum(midi_shift(t) or 0 for t in prefix) + 1
        )  # after the prefix's last
        target = int(whole.onset[before]) if before < len(whole) else 1 << 62
        new = decode([*prefix, *middle], c, self.tempo)
        mine = np.arange(len(new)) >= first  # the new middle's notes
        keep = ~mine | ((new.onset >= start) & (new.onset < target))
        return encode(_joined(new, keep, whole, np.arange(len(whole)) >= before, target), c)


def _joined(a: Layout, keep_a: np.ndarray, b: Layout, keep_b: np.ndarray, at: int) -> Layout:
    """`a`'s notes `keep_a` and marks before step `at`, `b`'s notes `keep_b` and marks from it."""
    cols = {name: np.concatenate([getattr(a, name)[keep_a], getattr(b, name)[keep_b]])
            for name in ("onset", "track", "pitch", "duration", "velocity")}  # fmt: skip
    order = np.lexsort((cols["pitch"], cols["track"], cols["onset"]))
    tempo = {s: v for s, v in a.tempo.items() if s < at} | {
        s: v for s, v in b.tempo.items() if s >= at}  # fmt: skip
    meters = [m for m in a.meters if m[0] < at] + [m for m in b.meters if m[0] >= at]
    return Layout(a.tracks, **{k: v[order] for k, v in cols.items()}, tempo=tempo, meters=meters)
