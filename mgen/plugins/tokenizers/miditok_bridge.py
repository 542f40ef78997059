"""Any single-stream MidiTok tokenization (REMI, TSD, Structured, MIDILike, MMM, ...) as an mgen
tokenizer, with an optional BPE or Unigram vocabulary learned from the training split.

`mgen train --tokenizer miditok -T tokenization=TSD -T vocab_size=1000` wraps MidiTok
(https://github.com/Natooz/MidiTok, `pip install 'mgen[miditok]'`). Tokens are MidiTok's own
strings (`Pitch_60`, `Position_8`, `Duration_1.0.8`); a learned token is the base tokens it
stands for joined by `+` (`Pitch_60+Velocity_63+Duration_1.0.8`), so a sample decodes without
the learned model, and the model (kept in the run's tokenizer.json) is needed only to read
files. Without `use_programs`, every non-drum track is read as one piano stream, as midi-notes
reads it; with it, MidiTok's one stream with Program tokens (instruments and drums kept).
docs/tokenizers/miditok.md has the details; docs/tokenizers/comparison.md measures it.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import symusic

from mgen.core.contracts.errors import ConfigError, DataError
from mgen.core.contracts.io import atomic_path
from mgen.core.contracts.recipe import Recipe
from mgen.core.contracts.tokenizer import Tokenizer, TokenizerConfig
from mgen.core.contracts.vocab import Vocab
from mgen.formats.base import Format
from mgen.formats.midi.format import MIDI
from mgen.plugins.tokenizers.miditok_import import miditok
from mgen.plugins.tokenizers.miditok_learned import Learned

#: MidiTok's tokenizations that write several tokens per step (embedding pooling): an mgen
#: model predicts one token at a time.
MULTI_STREAM = ("CPWord", "Octuple", "MuMIDI")
LEARNERS = ("BPE", "Unigram")


def single_stream() -> list[str]:
    return [n for n in miditok.tokenizations.__all__ if n not in MULTI_STREAM]


@dataclasses.dataclass
class MiditokConfig(TokenizerConfig):
    tokenization: str = "REMI"  # a MidiTok tokenization: REMI, TSD, Structured, MIDILike, MMM
    vocab_size: int = 0  # a learned vocabulary of this many tokens over the base ones; 0: off
    learn: str = "BPE"  # how it is learned: BPE or Unigram (from the training split only)
    use_programs: bool = False  # one stream with Program tokens; else every track as one piano
    num_velocities: int = 32  # MidiTok's velocity bins
    use_tempos: bool = False  # Tempo tokens
    options: str = ""  # any other miditok.TokenizerConfig setting, as a JSON object

    def validate(self) -> None:
        super().validate()
        if self.tokenization in MULTI_STREAM:
            raise ConfigError(
                f"{self.tokenization} is a multi-stream MidiTok tokenization (several tokens "
                f"per step); the miditok tokenizer takes one of {', '.join(single_stream())}"
            )
        if self.tokenization not in single_stream():
            raise ConfigError(
                f"unknown MidiTok tokenization {self.tokenization!r}; "
                f"available: {', '.join(single_stream())}"
            )
        if self.learn not in LEARNERS:
            raise ConfigError(f"learn must be one of {', '.join(LEARNERS)}, got {self.learn!r}")
        if self.vocab_size < 0 or not 1 <= self.num_velocities <= 127:
            raise ConfigError("vocab_size must be >= 0 and num_velocities 1..127")
        self.extra_options()

    def extra_options(self) -> dict[str, Any]:
        """`options` as a dict (ConfigError when it is not a JSON object)."""
        try:
            extra = json.loads(self.options) if self.options.strip() else {}
        except json.JSONDecodeError as e:
            raise ConfigError(f"options must be a JSON object: {e}") from None
        if not isinstance(extra, dict):
            raise ConfigError("options must be a JSON object, e.g. '{\"use_chords\": true}'")
        return extra


class MiditokTokenizer(Tokenizer):
    """MIDI through MidiTok: REMI, TSD, Structured, MIDILike, ... with BPE or Unigram (mgen[miditok])"""

    Config = MiditokConfig
    format: ClassVar[Format] = MIDI
    # As the MIDI built-ins: each piece from the empty state (see midi_base.MidiBase.recipe).
    recipe: ClassVar[Recipe] = Recipe(dataset="bach-midi", time_budget=300.0,
                                      batching="piece-lanes")  # fmt: skip
    version = "1"

    def __init__(self, config: MiditokConfig | None = None):
        super().__init__(config)
        self.config.validate()
        self.base = _base_tokenizer(self.config)
        self.learned: Learned | None = None  # set by learn() or a run's saved state

    # -- reading ---------------------------------------------------------------------------
    def read(self, path: Path) -> list[list[str]]:
        score = _load(Path(path))
        score = _restruck(_by_program(score) if self.config.use_programs else _one_piano(score))
        if not sum(len(t.notes) for t in score.tracks):
            raise DataError("no notes")
        try:
            out = self.base.encode(score)
        except Exception as e:  # noqa: BLE001 - MidiTok raises what it meets; the file is at fault
            raise DataError(f"MidiTok could not tokenize it ({type(e).__name__}: {e})") from None
        seq = out[0] if isinstance(out, list) else out
        tokens = list(seq.tokens)
        if not tokens:
            raise DataError("MidiTok gave no tokens")
        return [self.learned.encode(tokens) if self.learned else tokens]

    def learn(self, pieces: list[list[str]]) -> bool:
        """The learning hook (contracts.learning): a `vocab_size` vocabulary over the base
        tokens of the training pieces."""
        if not self.config.vocab_size:
            return False
        self.learned = Learned.train(self.base, pieces, self.config.vocab_size, self.config.learn)
        return True

    def fit(self, counts: Counter[str]) -> None:
        """The vocabulary hook (contracts.vocabulary): every token it can read, whatever the
        counts (MidiTok's base tokens, or the learned ones), so no file reads as <unk>."""
        del counts
        tokens = self.learned.names if self.learned else list(self.base.vocab)
        specials = set(self.base.special_tokens)
        self.vocab = Vocab([t for t in dict.fromkeys(tokens) if t and t not in specials])

    # -- writing ---------------------------------------------------------------------------
    def base_tokens(self, tokens: list[str]) -> list[str]:
        """Learned tokens split into the base tokens they stand for; mgen's own and unknown
        tokens left out."""
        known = self.base.vocab
        return [b for t in tokens for b in t.split("+") if b in known]

    def write(self, tokens: list[str], path: Path) -> Path:
        base = self.base_tokens(tokens)
        seq = miditok.TokSequence(tokens=base)
        try:
            score = self.base.decode(seq if self.base.one_token_stream else [seq])
            data = score.dumps_midi()
        except Exception as e:  # noqa: BLE001 - MidiTok's decoder on what a model wrote
            raise DataError(
                f"MidiTok could not decode the piece ({type(e).__name__}: {e})"
            ) from None
        if not sum(len(t.notes) for t in score.tracks):
            raise DataError("the piece has no notes to write")
        path = Path(path).with_suffix(self.format.suffix)
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
        return path

    # -- state and judge hooks -------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        """The learned vocabulary's model (MidiTok's JSON), kept in tokenizer.json."""
        return {"learned": self.learned.state() if self.learned else None}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        saved = state.get("learned")
        self.learned = Learned.load(self.base, saved) if saved else None

    def count_notes(self, tokens: list[str]) -> int:
        """Every pitch (or drum) token is one note."""
        return sum(b.startswith(("Pitch_", "PitchDrum_", "NoteOn_")) for t in tokens
                   for b in t.split("+"))  # fmt: skip


def _base_tokenizer(c: MiditokConfig) -> Any:
    """MidiTok's tokenizer for these settings (ConfigError for settings it refuses)."""
    options: dict[str, Any] = {
        "num_velocities": c.num_velocities,
        "use_tempos": c.use_tempos,
        "use_programs": c.use_programs,
        "one_token_stream_for_programs": c.use_programs,
    }
    extra = c.extra_options()
    if c.tokenization == "MMM":  # MMM orders tracks, each in a base tokenization's tokens
        extra.setdefault("base_tokenizer", "REMI")
    options |= {k: _ranges(v) if k in RANGED else v for k, v in extra.items()}
    try:
        config = miditok.TokenizerConfig(**options)
        return getattr(miditok, c.tokenization)(config)
    except Exception as e:  # noqa: BLE001 - MidiTok validates its settings by raising
        raise ConfigError(
            f"MidiTok refused the settings ({type(e).__name__}: {e}); its other settings go in "
            "-T options='{\"name\": value}'"
        ) from None


#: MidiTok's settings keyed by beat ranges, (0, 4): written "0_4" in JSON, as MidiTok saves them.
RANGED = ("beat_res", "beat_res_rest")


def _ranges(value: Any) -> Any:
    """{"0_4": 8, "4_12": 4} -> {(0, 4): 8, (4, 12): 4}; anything else as it is (MidiTok says
    what is wrong with it)."""
    if not isinstance(value, dict):
        return value
    try:
        return {tuple(int(x) for x in str(k).split("_")): v for k, v in value.items()}
    except ValueError:
        raise ConfigError(f'beat ranges are written "A_B": {list(value)}') from None


def _load(path: Path) -> Any:
    """The file as a symusic Score (DataError for a missing, empty or unreadable file)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror or e}") from None
    if not data:
        raise DataError("empty file")
    try:
        score = symusic.Score.from_midi(data)
    except Exception as e:  # noqa: BLE001 - the parser raises RuntimeError and others on bad files
        raise DataError(f"not a readable MIDI file ({type(e).__name__}: {str(e)[:120]})") from None
    if score.ticks_per_quarter <= 0:
        raise DataError("no usable timing")
    return score


def _one_piano(score: Any) -> Any:
    """Every non-drum note of every track in one piano track, as midi-notes reads a file."""
    return _merged(score, lambda t: None if t.is_drum else (0, False))


def _by_program(score: Any) -> Any:
    """The tracks of one program (and the drums) as one track: MidiTok's one stream names a
    note's program, not its track, so it writes them as one."""
    return _merged(score, lambda t: (t.program, t.is_drum))


def _merged(score: Any, key: Callable[[Any], tuple[int, bool] | None]) -> Any:
    """`score` with its tracks' notes merged by `key(track)` -> (program, drum); None: left out."""
    one = symusic.Score(score.ticks_per_quarter)
    one.tempos = score.tempos
    one.time_signatures = score.time_signatures
    one.key_signatures = score.key_signatures
    tracks: dict[tuple[int, bool], Any] = {}
    for t in score.tracks:
        k = key(t)
        if k is not None:
            tracks.setdefault(k, symusic.Track(t.name, k[0], k[1])).notes.extend(t.notes)
    for track in tracks.values():
        one.tracks.append(track)
    return one


def _restruck(score: Any) -> Any:
    """`score` with, in each track, a note held when its pitch is struck again ended at the
    re-strike (of two struck together, one kept): what a MIDI file can hold, so a sample
    written reads back as the tokens it was written from."""
    for track in score.tracks:
        if not len(track.notes):
            continue
        n = track.notes.numpy()
        time, pitch, duration = n["time"], n["pitch"], n["duration"].copy()
        order = np.lexsort((time, pitch))  # by pitch, then time
        t, p = time[order], pitch[order]
        again = p[1:] == p[:-1]  # [N-1] the next note in this order strikes the same pitch
        gap = t[1:] - t[:-1]
        cut = order[:-1][again]
        duration[cut] = np.minimum(duration[cut], gap[again])
        keep = np.ones(len(time), dtype=bool)
        keep[order[:-1][again & (gap == 0)]] = False
        rows = np.flatnonzero(keep)
        rows = rows[np.lexsort((pitch[rows], time[rows]))]
        track.notes = symusic.Note.from_numpy(
            time[rows], duration[rows], pitch[rows], n["velocity"][rows], "tick"
        )
    return score
