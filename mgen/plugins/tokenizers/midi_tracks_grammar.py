"""The grammar of midi-tracks (the optional grammar hook, mgen.core.contracts.grammar): every
sample is what `read` gives of some file, token for token, so every sample is writable.

    tracks_<n>  inst x n  tempo  [meter]  then, from an onset on:
    (shifts)  t ... [meter] [tempo] NOTES             (bars)  bar [meter] ... pos [tempo] NOTES
    NOTES = ([tr<i>] [v] ([i<+-n>] pitch d | k<drum>))+        the piece may end after a note

with: exactly n instruments; `tr<i>` only for a declared track, never the track in force, and
within an onset only a later track; a pitch on a pitched track, a drum hit on a drum track, in
ascending order within an onset and track; `pos` inside the bar and after the last one. With
`intervals`, a pitch on a track that has had one comes only after an interval, and is the
track's last pitch moved by it; a track's first pitch comes without one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mgen.core.contracts.grammar import Grammar
from mgen.core.contracts.vocab import Vocab
from mgen.plugins.tokenizers.midi_tracks_layout import bar_steps
from mgen.plugins.tokenizers.midi_tracks_tokens import parse
from mgen.plugins.tokenizers.midi_tracks_voicing import DESCRIPTION, RULE, NoParallels

KINDS = ("count", "inst", "tempo", "meter", "shift", "bar", "pos", "track", "vel", "pitch",
         "drum", "dur", "interval")  # fmt: skip
#: States: the kind of the last token, with the header's tempo and meter apart from the body's.
STATES = (*KINDS, "head_tempo", "head_meter", "begin", "end")
_NOTE = {"track", "vel", "pitch", "drum", "interval"}


def _follows(bars: bool) -> dict[str, set[str]]:
    time = {"bar", "pos"} if bars else {"shift"}
    body = {"bar"} if bars else {"shift", "track"}
    return {
        "begin": {"count"},
        "count": {"inst"},
        "inst": {"inst", "tempo"},
        "head_tempo": {"meter"} | body,
        "head_meter": body,
        "shift": {"shift", "meter", "tempo"} | _NOTE,
        "bar": {"bar", "meter", "pos"},
        "meter": ({"bar", "pos"} if bars else {"shift", "tempo"} | _NOTE),
        "pos": {"tempo"} | _NOTE,
        "tempo": _NOTE,
        "track": {"vel", "pitch", "drum", "interval"},
        "vel": {"pitch", "drum", "interval"},
        "interval": {"pitch"},
        "pitch": {"dur"},
        "dur": time | _NOTE,
        "drum": time | _NOTE,
    }


class MidiTracksGrammar(Grammar):
    """midi-tracks for K samples: the kind of the last token, plus the ensemble, the track in
    force, the last pitch of this onset and track, and the bar (length, last position)."""

    RULES = {RULE: DESCRIPTION}  # noqa: RUF012 (the base class declares it a ClassVar)

    def __init__(self, vocab: Vocab, num_samples: int, config: Any):
        super().__init__(vocab, num_samples)
        self.spb = config.steps_per_beat
        code = {name: i for i, name in enumerate(STATES)}
        self.code = code
        parsed = [parse(t) for t in vocab.tokens]
        self.kind = np.array([code[p[0]] if p else -1 for p in parsed])
        self.kind[vocab.end_id] = code["end"]
        self.value = np.array([p[1] if p and p[0] not in ("meter",) else -1 for p in parsed])
        self.bar_len = np.array([int(bar_steps(*p[1], self.spb)) if p and p[0] == "meter" else 0
                                 for p in parsed])  # fmt: skip
        self.table = self._table(_follows(config.timing == "bars"), vocab)
        k, most = num_samples, config.max_tracks
        self.state = np.full(k, code["begin"])
        self.declared, self.named = np.zeros(k, dtype=int), np.zeros(k, dtype=int)
        self.drums = np.zeros((k, most + 1), dtype=bool)  # [K, track]: a drum track
        self.track = np.full(k, -1)  # the track in force
        self.fresh = np.ones(k, dtype=bool)  # no note yet at this onset
        self.last = np.full(k, -1)  # the last pitch of this onset and track
        self.length = np.full(k, 4 * self.spb)  # steps in the bar in force
        self.pos = np.full(k, -1)  # the last position in this bar
        self.intervals = bool(getattr(config, "intervals", False))
        self.before = np.full((k, most + 1), -1)  # [K, track]: the track's last pitch
        self.pending = np.full(k, -1)  # the pitch an interval just taken calls for

    def _table(self, follows: dict[str, set[str]], vocab: Vocab) -> np.ndarray:
        table = np.zeros((len(STATES), len(vocab)), dtype=bool)  # [state, token]
        for before, after in follows.items():
            table[self.code[before]] = np.isin(self.kind, [self.code[a] for a in after])
        for ends in ("dur", "drum", "end"):
            table[self.code[ends], vocab.end_id] = True
        return table

    def with_rule(self, name: str) -> Grammar:
        return NoParallels(self) if name == RULE else super().with_rule(name)

    def allowed(self) -> np.ndarray:
        mask = self.table[self.state]  # [K, V]: a fresh array
        kind, value, c = self.kind[None, :], self.value[None, :], self.code
        more = (self.named < self.declared)[:, None]
        mask &= ~((kind == c["inst"]) & ~more) & ~((kind == c["tempo"]) & more)
        track = self.track[:, None]
        later = np.where(self.fresh[:, None], value != track, value > track)
        mask &= ~((kind == c["track"]) & ~((value < self.declared[:, None]) & later))
        valid = (self.track >= 0)[:, None]
        drum = self.drums[np.arange(self.k), np.maximum(self.track, 0)][:, None]
        higher = value > self.last[:, None]
        pitched = valid & ~drum
        if self.intervals:  # the pitch follows from the interval; a first pitch has none
            before = self.before[np.arange(self.k), np.maximum(self.track, 0)][:, None]
            to = before + value  # [K, V]: where each interval leads
            fits = (before >= 0) & (to > self.last[:, None]) & (to <= 127)
            mask &= ~((kind == c["interval"]) & ~(pitched & fits))
            asked = (self.state == c["interval"])[:, None]
            pitched = pitched & np.where(asked, value == self.pending[:, None], before < 0)
        mask &= ~((kind == c["pitch"]) & ~(pitched & higher))
        mask &= ~((kind == c["drum"]) & ~(valid & drum & higher))
        mask &= ~((kind == c["vel"]) & ~(valid & (self.last < 127)[:, None]))  # a note can follow
        inside = (value < self.length[:, None]) & (value > self.pos[:, None])
        mask &= ~((kind == c["pos"]) & ~inside)
        return mask

    def advance(self, ids: np.ndarray) -> None:
        kind, value, c = self.kind[ids], self.value[ids], self.code
        rows = np.arange(self.k)
        head = np.isin(self.state, [c["begin"], c["count"], c["inst"], c["head_tempo"]])
        self.declared = np.where(kind == c["count"], value, self.declared)
        is_inst = (kind == c["inst"]) & (self.named < self.drums.shape[1])
        self.drums[rows[is_inst], self.named[is_inst]] = value[is_inst] < 0
        self.named = self.named + is_inst
        onset = np.isin(kind, [c["shift"], c["bar"], c["pos"]])
        switch = kind == c["track"]
        self.fresh = np.where(onset, True, np.where(np.isin(kind, [c["dur"], c["drum"]]),
                                                    False, self.fresh))  # fmt: skip
        self.track = np.where(switch, value, self.track)
        note = np.isin(kind, [c["pitch"], c["drum"]])
        if self.intervals:
            on = np.maximum(self.track, 0)
            self.pending = np.where(kind == c["interval"], self.before[rows, on] + value, -1)
            pitch = (kind == c["pitch"]) & (self.track >= 0)
            self.before[rows[pitch], on[pitch]] = value[pitch]
        self.last = np.where(onset | switch, -1, np.where(note, value, self.last))
        meter = kind == c["meter"]
        self.length = np.where(meter, self.bar_len[ids], self.length)
        self.pos = np.where(kind == c["bar"], -1, np.where(kind == c["pos"], value, self.pos))
        state = np.where(head & (kind == c["tempo"]), c["head_tempo"], kind)
        state = np.where((self.state == c["head_tempo"]) & meter, c["head_meter"], state)
        self.state = np.where(kind >= 0, state, self.state)
