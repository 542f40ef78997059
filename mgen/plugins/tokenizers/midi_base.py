"""What the two MIDI tokenizers (midi-notes, midi-chords) share: the MIDI format, their settings,
the training pieces' tempo."""

from __future__ import annotations

import dataclasses
import statistics
from collections import Counter
from typing import Any, ClassVar

from mgen.core.contracts.errors import ConfigError
from mgen.core.contracts.recipe import Recipe
from mgen.core.contracts.tokenizer import TokenizerConfig
from mgen.formats.base import Format
from mgen.formats.keys import estimate_key
from mgen.formats.midi.format import MIDI
from mgen.formats.midi.read import DEFAULT_TEMPO, READERS
from mgen.plugins.tokenizers.midi_transpose import parse_range

__all__ = ["DEFAULT_TEMPO", "MidiBase", "MidiConfig", "check_dynamics"]


@dataclasses.dataclass
class MidiConfig(TokenizerConfig):
    """The settings both MIDI tokenizers share; each adds its own."""

    steps_per_beat: int = 4  # grid steps per quarter note: 4 = sixteenth notes
    max_duration_steps: int = 32  # longer notes are cut to this (8 beats at 4 steps/beat)
    max_shift_steps: int = 16  # longer gaps become several t tokens (one 4/4 bar each)
    piano_only: bool = False  # keep only General MIDI pianos (programs 0-7)
    reader: str = "symusic"  # or "miditoolkit": the slower reference reader (same tokens)
    transpose: str | int = ""  # training in random keys: "-5..6" semitones, N for -N..N; "": off

    def validate(self) -> None:
        super().validate()
        for name in ("steps_per_beat", "max_duration_steps", "max_shift_steps"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.reader not in READERS:
            raise ConfigError(f"reader must be one of {', '.join(READERS)}")
        parse_range(self.transpose)


def check_dynamics(name: str, velocities: int, most: int, tempo_change: float) -> None:
    """The velocity bins (0..most) and tempo-change ratio (>= 0) of a MIDI tokenizer's settings."""
    if not 0 <= velocities <= most:
        raise ConfigError(f"{name}: velocities must be 0..{most}")
    if tempo_change < 0:
        raise ConfigError(f"{name}: tempo_change must be >= 0")


class MidiBase:
    """Mixin for a tokenizer of MIDI files: their format, recipe, tempo and primer."""

    format: ClassVar[Format] = MIDI
    # Each piece from the empty state, as sampling starts it: trained with the state carried
    # across pieces (lanes), 53 of 64 bach-midi samples opened mid-stream (a shift, a stray
    # pitch) instead of with the tempo token every piece opens with; with piece-lanes 2 of 64,
    # and validation loss was lower too (1.2616 against 1.2655 at 300 CPU-s; docs/training.md).
    recipe: ClassVar[Recipe] = Recipe(
        dataset="bach-midi", time_budget=300.0, batching="piece-lanes"
    )

    def __init__(self, config: Any = None):
        super().__init__(config)  # type: ignore[call-arg]  # the Tokenizer after this mixin
        self.tempo = DEFAULT_TEMPO  # median tempo of the training pieces, set by fit()

    def fit(self, counts: Counter[str]) -> None:
        """The vocabulary hook (contracts.vocabulary): the tempo written for a piece without a
        tempo token is the training pieces' median."""
        tempos = Counter({int(t[6:]): n for t, n in counts.items() if t.startswith("tempo_")})
        if tempos:
            self.tempo = float(statistics.median_low(sorted(tempos.elements())))

    def attributes(self, tokens: list[str]) -> dict[str, str]:
        """The controls hook (mgen.core.contracts.controls): the tempo and meter a piece opens
        with, from its first `tempo_` and `meter_` tokens, and its key, estimated from every
        pitch weighted by its duration (drums left out)."""
        out: dict[str, str] = {}
        pitches: list[int] = []
        weights: list[int] = []
        pending: list[int] = []
        for t in tokens:
            for name in ("tempo", "meter"):
                if t.startswith(f"{name}_") and name not in out:
                    out[name] = t[len(name) + 1 :]
            if t[:1].isdigit() and t.replace(".", "").isdigit():
                pending += [int(p) for p in t.split(".")]  # a pitch, or a chord's pitches
            elif t[:1] == "d" and t[1:].isdigit():
                pitches, weights, pending = (
                    pitches + pending,
                    weights + [int(t[1:])] * len(pending),
                    [],
                )
        found = estimate_key(pitches + pending, weights + [1] * len(pending))
        return {**out, "key": found} if found else out

    def extra_state(self) -> dict[str, Any]:
        return {"tempo": self.tempo}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.tempo = float(state.get("tempo", DEFAULT_TEMPO))

    def parse_primer(self, text: str) -> list[str]:
        """Whitespace-separated tokens, e.g. `tempo_120 60 d4 t4 62 d2`."""
        return text.split()
