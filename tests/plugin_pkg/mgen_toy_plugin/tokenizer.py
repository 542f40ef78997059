"""A toy text format, `.notes`: one melody per line, `pitch:steps` per note (steps of a
sixteenth), e.g. `60:4 62:2 64:2 r:4` — written only from docs/plugins.md."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from mgen.core.contracts.errors import DataError
from mgen.core.contracts.io import write_text
from mgen.core.contracts.tokenizer import Tokenizer, TokenizerConfig


@dataclasses.dataclass
class NotesConfig(TokenizerConfig):
    tempo_bpm: float = 100.0  # for the MIDI it writes


class NotesTokenizer(Tokenizer):
    """Toy `.notes` melodies, one token per note (from the mgen-toy-plugin package)."""

    Config = NotesConfig
    file_patterns = ("*.notes",)
    suffix = ".notes"
    default_dataset = "toy-scales"
    default_time_budget = 60.0

    def read(self, path: Path) -> list[list[str]]:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise DataError(f"cannot read {path}: {e}") from None
        pieces = [line.split() for line in lines if line.strip()]
        for piece in pieces:
            for token in piece:
                _parse(token)  # raises DataError on a malformed token
        return pieces

    def write(self, tokens: list[str], path: Path) -> Path:
        return write_text(Path(path).with_suffix(self.suffix), " ".join(tokens) + "\n")

    def to_midi(self, tokens: list[str], path: Path) -> Path:
        import pretty_midi

        step = 60.0 / self.config.tempo_bpm / 4  # seconds per sixteenth
        inst, now = pretty_midi.Instrument(program=0), 0.0
        for pitch, steps in map(_parse, tokens):
            if pitch is not None:
                inst.notes.append(pretty_midi.Note(90, pitch, now, now + steps * step))
            now += steps * step
        if not inst.notes:
            raise DataError("no notes to write")
        pm = pretty_midi.PrettyMIDI(initial_tempo=self.config.tempo_bpm)
        pm.instruments.append(inst)
        out = Path(path).with_suffix(".mid")
        pm.write(str(out))
        return out


def _parse(token: str) -> tuple[int | None, int]:
    pitch, _, steps = token.partition(":")
    try:
        value = None if pitch == "r" else int(pitch)
        length = int(steps)
    except ValueError:
        raise DataError(f"not a note: {token!r}") from None
    if length < 1 or (value is not None and not 0 <= value <= 127):
        raise DataError(f"not a note: {token!r}")
    return value, length
