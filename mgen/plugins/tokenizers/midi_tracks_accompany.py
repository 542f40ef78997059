"""Accompaniment for midi-tracks (the optional accompaniment hook, mgen.core.contracts.
accompany): one track of a file kept note for note, new tracks sampled around it.

The given track becomes track 0 of a new ensemble (`tracks_<n> inst_<given> inst_<asked>...`,
the file's opening tempo and meter). Sampling then goes in time order, as the encoding does:
the model writes the new tracks' notes and the time shifts, and each time a shift reaches the
next onset of the given track, the grammar forces that onset's tokens (its meter and tempo
marks, `tr0` where another track is in force, its velocity, pitches and durations), which come
first at an onset since track 0 is first in the header. In between, the model may not shift
past the given track's next onset, write on track 0, write meter or tempo marks, or end the
piece before the given track's last onset; after it, it may go on until the given track's last
note ends. The model sees each given note only when its onset comes (no look-ahead).

Whether a sample kept the given track is checked after sampling (`Accompaniment.kept`), not
assumed: a sample that ran out of tokens before the given track ended did not.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mgen.core.contracts.errors import ConfigError, DataError
from mgen.core.contracts.grammar import Grammar
from mgen.core.contracts.vocab import Vocab
from mgen.plugins.tokenizers.midi_tracks_layout import Layout
from mgen.plugins.tokenizers.midi_tracks_tokens import decode, encode, parse

_MARKS = ("meter", "tempo")


@dataclasses.dataclass
class Accompaniment:
    """One accompaniment request: the opening tokens (the new ensemble's header), the given
    track's events (step, tokens: marks then notes, without `tr`), where its last note ends,
    and the given notes as (onset, pitch, duration, velocity) rows to check samples by."""

    opening: list[str]
    events: list[tuple[int, list[str]]]
    end: int
    given: np.ndarray  # [N, 4]
    config: Any
    tempo: float

    @property
    def forced(self) -> int:
        """The most tokens the given track adds to a sample (a `tr0` per onset at most)."""
        return sum(len(tokens) + 1 for _, tokens in self.events)

    def grammar(self, inner: Grammar, vocab: Vocab) -> AccompanyGrammar:
        return AccompanyGrammar(inner, vocab, self)

    def kept(self, tokens: list[str]) -> str | None:
        """None where track 0 of the piece `tokens` holds the given notes exactly (onset,
        pitch, duration, velocity), else what differs."""
        notes = _rows(decode(tokens, self.config, self.tempo), 0)
        if len(notes) < len(self.given) and np.array_equal(notes, self.given[: len(notes)]):
            return f"it holds {len(notes)} of the {len(self.given)} given notes (raise -n)"
        if not np.array_equal(notes, self.given):
            return f"its track 1 differs from the given track ({len(notes)} notes)"
        return None


def accompaniment(tok: Any, path: Path, instruments: Sequence[str], track: int | None):
    """The request to keep track `track` (from 1, as midi-tracks reads the file; None: the
    first pitched one) of `path`'s first piece and add `instruments`."""
    if not instruments:
        raise ConfigError("--accompany: name the tracks to add with --instruments")
    if tok.config.timing != "shifts":
        raise ConfigError("--accompany: only midi-tracks runs with timing=shifts, not bars")
    c = tok.config
    layout = decode(tok.read(Path(path))[0], c, tok.tempo)
    index = _chosen(layout, path, track)
    given = _alone(layout, index)
    tokens = encode(given, c)
    head = _head(tokens)
    program = given.tracks[0][0]
    opening = tok.with_ensemble([str(program), *instruments], tokens[2:head])
    end = int((given.onset + given.duration).max())
    return Accompaniment(opening, _events(tokens[head:]), end, _rows(given, 0), c, tok.tempo)


def _chosen(layout: Layout, path: Path, track: int | None) -> int:
    pitched = [i for i, (_, drum) in enumerate(layout.tracks) if not drum]
    have = sorted(set(layout.track.tolist()) & set(pitched))
    if track is None:
        if not have:
            raise ConfigError(f"--accompany: {path} has no pitched track to accompany")
        return have[0]
    if not 1 <= track <= len(layout.tracks):
        raise ConfigError(f"--accompany-track {track}: {path} has tracks 1-{len(layout.tracks)}")
    if track - 1 not in have:
        raise ConfigError(f"--accompany-track {track}: a drum track or no notes; pitched: "
                          f"{', '.join(str(i + 1) for i in have) or 'none'}")  # fmt: skip
    return track - 1


def _alone(layout: Layout, index: int) -> Layout:
    """Track `index` of `layout` as a one-track layout, with the piece's tempo and meters."""
    keep = layout.track == index
    if not keep.any():
        raise DataError("--accompany: the chosen track has no notes")
    return Layout([layout.tracks[index]], layout.onset[keep], layout.track[keep] * 0,
                  layout.pitch[keep], layout.duration[keep], layout.velocity[keep],
                  tempo=dict(layout.tempo), meters=list(layout.meters))  # fmt: skip


def _rows(layout: Layout, track: int) -> np.ndarray:
    keep = layout.track == track
    cols = (layout.onset, layout.pitch, layout.duration, layout.velocity)
    return np.stack([col[keep] for col in cols], axis=1).astype(np.int64)


def _head(tokens: list[str]) -> int:
    """Where the header ends: tracks_1, inst, tempo, then the opening meters."""
    at = 3
    while at < len(tokens) and tokens[at].startswith("meter_"):
        at += 1
    return at


def _events(body: list[str]) -> list[tuple[int, list[str]]]:
    """The given track's body as (step, marks then notes) per time it has something at."""
    events: list[tuple[int, list[str]]] = []
    now, group = 0, []
    for token in body:
        kind, value = parse(token) or ("", 0)
        if kind == "shift":
            if group:
                events.append((now, group))
            now, group = now + value, []
        elif kind != "track":
            group.append(token)
    if group:
        events.append((now, group))
    return events


class AccompanyGrammar(Grammar):
    """midi-tracks' grammar with the given track forced at its onsets (see the module)."""

    def __init__(self, inner: Any, vocab: Vocab, plan: Accompaniment):
        super().__init__(vocab, inner.k)
        self.inner, self.end = inner, plan.end
        self.times = [t for t, _ in plan.events]
        self.groups = [vocab.encode(tokens) for _, tokens in plan.events]
        parsed = [parse(t) or ("", -1) for t in vocab.tokens]
        kind = np.array([p[0] for p in parsed])
        self.shift = np.array([p[1] if p[0] == "shift" else 0 for p in parsed])  # [V]
        self.note = np.isin(kind, ["vel", "pitch", "drum"])  # [V]: on the track in force
        self.never = np.isin(kind, _MARKS) | (np.array(vocab.tokens) == "tr0")  # [V]
        self.tr0 = vocab.tokens.index("tr0")
        self.now, self.next = np.zeros(self.k, dtype=int), np.zeros(self.k, dtype=int)
        self.queue: list[list[int]] = [[] for _ in range(self.k)]

    def feed(self, tokens: Sequence[str]) -> None:
        """The opening (the header): then the given track's onset at step 0, where it has one."""
        self.inner.feed(tokens)
        for row in range(self.k):
            self._load(row)

    def allowed(self) -> np.ndarray:
        mask = self.inner.allowed() & ~self.never[None, :]
        mask &= ~((self.inner.track <= 0)[:, None] & self.note[None, :])
        done = self.next >= len(self.times)
        limit = np.where(done, self.end - 1, [self.times[min(j, len(self.times) - 1)]
                                              for j in self.next])  # fmt: skip
        mask &= ~(self.shift[None, :] > (limit - self.now)[:, None])
        mask[:, self.vocab.end_id] &= done
        for row, queue in enumerate(self.queue):
            if queue:
                mask[row] = False
                mask[row, queue[0]] = True
        return mask

    def advance(self, ids: np.ndarray) -> None:
        self.inner.advance(ids)
        for queue in self.queue:
            if queue:
                queue.pop(0)
        self.now = self.now + self.shift[ids]
        for row in np.flatnonzero(self.shift[ids] > 0):
            self._load(int(row))

    def _load(self, row: int) -> None:
        """The given track's next event, where the sample has reached its step."""
        j = int(self.next[row])
        if j >= len(self.times) or self.now[row] != self.times[j]:
            return
        group = self.groups[j]
        marks = [i for i in group if parse(self.vocab.tokens[i])[0] in _MARKS]  # type: ignore[index]
        notes = group[len(marks) :]
        switch = [self.tr0] if notes and int(self.inner.track[row]) != 0 else []
        self.queue[row] = [*marks, *switch, *notes]
        self.next[row] = j + 1
