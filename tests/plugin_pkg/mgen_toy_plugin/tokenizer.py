"""A toy text format, `.notes`: one melody per line, `pitch:steps` per note (steps of a
sixteenth, `r:steps` a rest), e.g. `60:4 62:2 64:2 r:4` — written only from docs/plugins.md."""

from __future__ import annotations

from pathlib import Path

from mgen.plugin import (
    DataError,
    Format,
    Piece,
    Recipe,
    Tokenizer,
    atomic_path,
    make_piece,
    write_text,
)

BPM = 100.0  # the tempo a .notes file is played at


class NotesFormat(Format):
    """`.notes` files: what `mgen eval`, `mgen render` and `mgen serve` know of them."""

    name = "notes"
    patterns = ("*.notes",)  # what --data folders are searched for; how mgen knows the files
    suffix = ".notes"  # what `write` writes

    def read_notes(self, path: Path, limit: int | None = None) -> list[Piece]:
        """One piece per melody; onsets and durations in beats (a sixteenth is 1/4)."""
        found, pieces = melodies(path), []
        for n, melody in enumerate(found, 1):
            notes, now = [], 0
            for pitch, steps in melody:
                if pitch is not None:
                    notes.append((pitch, now / 4, steps / 4))
                now += steps
            if notes:
                pieces.append(
                    make_piece(f"{path}#{n}" if len(found) > 1 else str(path), notes, 4.0)
                )
        if not pieces:
            raise DataError("no notes")
        return pieces

    def to_midi(self, path: Path, out: Path) -> Path:
        """The file's melodies one after another, at BPM."""
        import pretty_midi

        step = 60.0 / BPM / 4  # seconds per sixteenth
        inst, now = pretty_midi.Instrument(program=0), 0.0
        for pitch, steps in (note for melody in melodies(path) for note in melody):
            if pitch is not None:
                inst.notes.append(pretty_midi.Note(90, pitch, now, now + steps * step))
            now += steps * step
        if not inst.notes:
            raise DataError("no notes to write")
        pm = pretty_midi.PrettyMIDI(initial_tempo=BPM)
        pm.instruments.append(inst)
        with atomic_path(Path(out)) as tmp:  # never a half-written file
            pm.write(str(tmp))
        return Path(out)


class NotesTokenizer(Tokenizer):
    """Toy `.notes` melodies, one token per note (from the mgen-toy-plugin package)."""

    format = NotesFormat()
    recipe = Recipe(dataset="toy-scales", time_budget=60.0)  # trained on without --data

    def read(self, path: Path) -> list[list[str]]:
        return [[_token(p, s) for p, s in melody] for melody in melodies(path)]

    def write(self, tokens: list[str], path: Path) -> Path:
        return write_text(Path(path).with_suffix(self.format.suffix), " ".join(tokens) + "\n")

    # Optional protocols (mgen.core.contracts.judge): read from the tokens alone, so `mgen eval`
    # finds copies of training pieces without writing each one as MIDI, and losses are also
    # reported per note.
    def melody(self, tokens: list[str]) -> list[int]:
        return [p for p, _ in map(_parse, tokens) if p is not None]

    def count_notes(self, tokens: list[str]) -> int:
        return len(self.melody(tokens))


def melodies(path: Path) -> list[list[tuple[int | None, int]]]:
    """(pitch or None for a rest, steps) of each melody of the file; DataError if it is not
    one."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"cannot read {path}: {e}") from None
    return [[_parse(token) for token in line.split()] for line in lines if line.strip()]


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


def _token(pitch: int | None, steps: int) -> str:
    return f"{'r' if pitch is None else pitch}:{steps}"
