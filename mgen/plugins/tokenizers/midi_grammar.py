"""The grammars of `midi-notes` and `midi-chords` (the optional grammar hook,
mgen.core.contracts.grammar): every sample is what the writer reads, token for token.

midi-notes:   [tempo]  N N ...  (t ... [tempo] N N ...)*     N = pitch [v] d, pitches ascending
midi-chords:  [tempo]  E (t ... [tempo] E)*                   E = pitches d
"""

from __future__ import annotations

import re

import numpy as np

from mgen.core.contracts.grammar import KindGrammar
from mgen.core.contracts.vocab import Vocab

_KIND = re.compile(r"^(?:(?P<pitch>\d{1,3})|(?P<chord>\d{1,3}(?:\.\d{1,3})+)|(?P<vel>v\d+)"
                   r"|(?P<dur>d\d+)|(?P<shift>t\d+)|(?P<tempo>tempo_\d+))$")  # fmt: skip


def _kinds(vocab: Vocab) -> dict[str, str]:
    out = {}
    for token in vocab.tokens:
        m = _KIND.match(token)
        if m:
            out[token] = next(k for k, v in m.groupdict().items() if v is not None)
    return out


class MidiNotesGrammar(KindGrammar):
    """midi-notes: a tempo only first or after a shift, then a note; each note its pitch,
    [velocity] and duration in that order; notes at one onset in ascending pitch; the piece
    ends after a note's duration."""

    def __init__(self, vocab: Vocab, num_samples: int):
        kinds = _kinds(vocab)
        velocities = "vel" in kinds.values()
        follows = {
            "": {"tempo", "pitch"},
            "tempo": {"pitch"},
            "pitch": {"vel" if velocities else "dur"},
            "vel": {"dur"},
            "dur": {"pitch", "shift"},
            "shift": {"shift", "tempo", "pitch"},
        }
        super().__init__(vocab, num_samples, kinds, follows, may_end={"dur"})
        self.pitch = np.array([int(t) if kinds.get(t) == "pitch" else -1 for t in vocab.tokens])
        self.last = np.full(num_samples, -1)  # [K]: the highest pitch at this onset so far

    def allowed(self) -> np.ndarray:
        mask = super().allowed()  # [K, V], a fresh array
        same_onset = (self.state == self.code["dur"])[:, None]  # the next note shares it
        mask &= ~(same_onset & (self.pitch >= 0) & (self.pitch <= self.last[:, None]))
        return mask

    def advance(self, ids: np.ndarray) -> None:
        super().advance(ids)
        pitch, shifted = self.pitch[ids], self.kind[ids] == self.code["shift"]
        self.last = np.where(pitch >= 0, pitch, np.where(shifted, -1, self.last))


class MidiChordsGrammar(KindGrammar):
    """midi-chords: a tempo only first or after a shift; each event its pitches then its
    duration; events apart by shifts; the piece ends after an event's duration or a shift."""

    def __init__(self, vocab: Vocab, num_samples: int):
        kinds = {t: "event" if k in ("pitch", "chord") else k for t, k in _kinds(vocab).items()}
        follows = {
            "": {"tempo", "event"},
            "tempo": {"event"},
            "event": {"dur"},
            "dur": {"shift"},
            "shift": {"shift", "tempo", "event"},
        }
        super().__init__(vocab, num_samples, kinds, follows, may_end={"dur", "shift"})
