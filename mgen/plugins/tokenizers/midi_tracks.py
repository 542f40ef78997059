"""MIDI as tracks: each note with its instrument and its track (two violins stay two tracks),
drums in tokens of their own, velocity, tempo and meter; a header naming the ensemble.

A file is one piece: every track of it (at most `max_tracks`), on a beat grid of
`steps_per_beat` steps per quarter note. The piece opens with its ensemble, so that sampling
can be given one (`mgen sample --instruments "violin,violin,viola,cello"`):

    tracks_4 inst_52 inst_52 inst_52 inst_52 tempo_100 meter_4/4
    tr0 v5 67 d4 tr1 62 d4 tr2 59 d4 tr3 v4 43 d4 t4 tr0 69 d2 ...

Time is a shift between onsets (`t<steps>`, the default) or, with `-T timing=bars`, REMI's
`bar` and `pos<step>`. The exact scheme is in docs/tokenizers/midi-tracks.md; the layout rules
that make read -> write -> read give the same tokens are in `midi_tracks_layout`.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from mgen.core.contracts.errors import ConfigError, DataError
from mgen.core.contracts.recipe import Recipe
from mgen.core.contracts.tokenizer import Tokenizer
from mgen.core.contracts.vocab import Vocab
from mgen.formats.midi import gm
from mgen.formats.midi.read import read_midi
from mgen.formats.midi.write import write_midi
from mgen.formats.score import Score
from mgen.plugins.tokenizers.midi_base import MidiBase, MidiConfig, check_dynamics
from mgen.plugins.tokenizers.midi_grid import VELOCITY, resolution
from mgen.plugins.tokenizers.midi_tracks_grammar import MidiTracksGrammar
from mgen.plugins.tokenizers.midi_tracks_infill import TracksSpans
from mgen.plugins.tokenizers.midi_tracks_layout import fit_tracks, layout_of, score_of
from mgen.plugins.tokenizers.midi_tracks_tokens import DRUMS, decode, encode, parse, vocabulary
from mgen.plugins.tokenizers.midi_transpose import TransposeMixin

TIMINGS = ("shifts", "bars")
MAX_TRACKS = 16  # MIDI's channels
MAX_VELOCITIES = 32


@dataclasses.dataclass
class MidiTracksConfig(MidiConfig):
    velocities: int = 8  # velocity bins (a v token where a track's bin changes); 0: off
    tempo_change: float = 0.2  # a tempo token where the tempo moves by more than this ratio
    timing: str = "shifts"  # "shifts": t<steps> between onsets; "bars": REMI's bar + pos<step>
    max_tracks: int = MAX_TRACKS  # more tracks join one of their program, else the smallest go
    intervals: bool = False  # an i<+-n> token before each pitch: its track's melodic interval

    def validate(self) -> None:
        super().validate()
        check_dynamics("midi-tracks", self.velocities, MAX_VELOCITIES, self.tempo_change)
        if self.timing not in TIMINGS:
            raise ConfigError(f"midi-tracks: timing must be one of {', '.join(TIMINGS)}")
        if not 1 <= self.max_tracks <= MAX_TRACKS:
            raise ConfigError(f"midi-tracks: max_tracks must be 1..{MAX_TRACKS}")


class MidiTracksTokenizer(MidiBase, TransposeMixin, TracksSpans, Tokenizer):
    """MIDI as tracks: instrument, voice, drums, velocity, tempo and meter (four-voice chorales by default)

    Every note with its track; the piece opens with its ensemble, which sampling can choose."""

    version = "1"
    Config = MidiTracksConfig
    recipe = Recipe(dataset="bach-satb", time_budget=300.0, batching="piece-lanes")

    def __init__(self, config: MidiTracksConfig | None = None):
        super().__init__(config)
        self.table = vocabulary(self.config)

    # -- reading ---------------------------------------------------------------------------
    def read(self, path: Path) -> list[list[str]]:
        c = self.config
        score = read_midi(Path(path), c.reader)
        tracks = [t for t in score.tracks if len(t)]
        if c.piano_only:
            tracks = [t for t in tracks if 0 <= t.program <= 7 and not t.is_drum]
        if not tracks:
            raise DataError(f"no {'piano ' if c.piano_only else ''}notes")
        tracks = fit_tracks(tracks, c.max_tracks)
        layout = layout_of(score, tracks, c.steps_per_beat, c.max_duration_steps,
                           c.tempo_change, c.velocities)  # fmt: skip
        return [encode(layout, c)]

    # -- writing ---------------------------------------------------------------------------
    def write(self, tokens: list[str], path: Path) -> Path:
        """One named track per declared instrument or voice, with its program; drums on
        channel 10; the tempo and meter changes."""
        c = self.config
        layout = decode(tokens, c, self.tempo)
        if not len(layout):
            raise DataError("the piece has no notes to write")
        path = Path(path).with_suffix(self.format.suffix)
        score = score_of(layout, c.steps_per_beat, c.velocities, VELOCITY, "mgen midi-tracks")
        write_midi(score, path, resolution(c.steps_per_beat))
        return path

    def score(self, tokens: list[str]) -> Score:
        """The live-notes hook (mgen.core.contracts.live): the notes `write` writes, in memory."""
        c = self.config
        layout = decode(tokens, c, self.tempo)
        return score_of(layout, c.steps_per_beat, c.velocities, VELOCITY, "mgen midi-tracks")

    # -- vocabulary ------------------------------------------------------------------------
    def fit(self, counts: Counter[str]) -> None:
        """Every token the settings allow (`counts` set only the tempo written when a piece
        has no tempo token: the training pieces' median)."""
        self.vocab = Vocab(self.table)
        super().fit(counts)

    # -- hooks -----------------------------------------------------------------------------
    def grammar(self, vocab: Vocab, num_samples: int) -> MidiTracksGrammar:
        """The grammar hook (mgen.core.contracts.grammar): only what the writer reads."""
        return MidiTracksGrammar(vocab, num_samples, self.config)

    def with_ensemble(self, instruments: Sequence[str], tokens: list[str]) -> list[str]:
        """The ensemble hook (mgen.core.contracts.ensemble): the header naming `instruments`
        (General MIDI names or program numbers, "drums"), then `tokens`."""
        chosen = gm.ensemble_of(list(instruments))
        if len(chosen) > self.config.max_tracks:
            raise ConfigError(
                f"--instruments: at most {self.config.max_tracks} tracks, got {len(chosen)}"
            )
        if tokens and (parse(tokens[0]) or ("",))[0] in ("count", "inst"):
            raise ConfigError("--instruments: the primer names its own instruments already")
        names = [f"inst_{DRUMS}" if i.is_drum else f"inst_{i.program}" for i in chosen]
        return [f"tracks_{len(chosen)}", *names, *tokens]

    def accompaniment(self, path: Path, instruments: Sequence[str], track: int | None = None):
        """The accompaniment hook (mgen.core.contracts.accompany): track `track` of `path`
        (from 1; None: the first pitched one) kept, `instruments` added (midi_tracks_accompany)."""
        from mgen.plugins.tokenizers.midi_tracks_accompany import accompaniment

        return accompaniment(self, path, instruments, track)

    def count_notes(self, tokens: list[str]) -> int:
        """Every pitch or drum token is one note."""
        return sum(1 for t in tokens if t.isdigit() or (t[:1] == "k" and t[1:].isdigit()))

    def loop_neutral(self, token: str) -> bool:
        """The longest time shift, or an empty bar: a long rest repeats it."""
        if self.config.timing == "bars":
            return token == "bar"
        return token == f"t{self.config.max_shift_steps}"

    def melody(self, tokens: list[str]) -> list[int]:
        """The highest pitch of every onset over the pitched tracks (drums left out)."""
        layout = decode(tokens, self.config, self.tempo)
        drum = {i for i, (_, d) in enumerate(layout.tracks) if d}
        keep = [i for i, t in enumerate(layout.track.tolist()) if t not in drum]
        onset, pitch = layout.onset[keep], layout.pitch[keep]
        if not len(pitch):
            return []
        order = sorted(range(len(pitch)), key=lambda i: (onset[i], pitch[i]))
        last = [i for n, i in enumerate(order) if n + 1 == len(order)
                or onset[order[n + 1]] != onset[i]]  # fmt: skip
        return [int(pitch[i]) for i in last]
