"""What the two MIDI tokenizers (midi-notes, midi-chords) share: the MIDI file format itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from mgen.core.notes import Piece
from mgen.plugins.tokenizers.midi_read import DEFAULT_TEMPO

__all__ = ["DEFAULT_TEMPO", "MidiFormat"]


class MidiFormat:
    """Mixin for a tokenizer of MIDI files: their patterns, dataset, primer, notes and fuzzing."""

    # Upper case too: folders are globbed case-sensitively on Linux (piano-midi.de has .MID files).
    file_patterns: ClassVar[tuple[str, ...]] = ("*.mid", "*.midi", "*.MID", "*.MIDI")
    suffix: ClassVar[str] = ".mid"
    default_dataset: ClassVar[str | None] = "bach-midi"
    default_time_budget: ClassVar[float] = 300.0  # seconds of training when no length is given

    def __init__(self, config: Any = None):
        super().__init__(config)  # type: ignore[call-arg]  # the Tokenizer after this mixin
        self.tempo = DEFAULT_TEMPO  # median tempo of the training pieces, set by fit()

    def parse_primer(self, text: str) -> list[str]:
        """Whitespace-separated tokens, e.g. `tempo_120 60 d4 t4 62 d2`."""
        return text.split()

    def fuzz_strategy(self, st: Any) -> Any:
        """MIDI files built byte by byte and named MIDI edge cases (hypothesis, for tools/fuzz)."""
        from mgen.plugins.tokenizers.fuzzing_midi import strategy

        return strategy(st)

    def read_notes(self, path: Path, limit: int | None = None) -> list[Piece]:
        """The file's notes as played (not quantized): one piece."""
        from mgen.plugins.tokenizers.notes_midi import midi_piece

        return [midi_piece(path)]
