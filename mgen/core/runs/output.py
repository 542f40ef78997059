"""Writing generated pieces: each in the tokenizer's native format and as MIDI, never over
earlier samples unless asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from mgen.core.contracts.errors import DataError, MgenError
from mgen.core.contracts.tokenizer import Tokenizer, to_midi


@dataclass
class Written:
    """What `write_samples` did: the files (native, then MIDI, per piece) and the failures."""

    folder: Path
    paths: list[Path] = field(default_factory=list)
    pieces: int = 0  # pieces whose native file was written
    problems: list[str] = field(default_factory=list)  # "sample-002: why", one per failure


def refuse_overwrite(folder: Path, count: int) -> None:
    """Raise if `folder` already holds any of the first `count` samples' files."""
    if not folder.is_dir():
        return
    taken = sorted(p.name for i in range(1, count + 1) for p in folder.glob(f"sample-{i:03d}.*"))
    if taken:
        raise MgenError(
            f"{folder} already holds {', '.join(taken[:4])}{' ...' if len(taken) > 4 else ''}; "
            "choose another --out or pass --force to overwrite"
        )


def write_samples(
    tok: Tokenizer, pieces: list[list[str]], folder: Path, force: bool = False
) -> Written:
    """sample-001.<native>, sample-001.mid, ...: a piece that cannot be written is recorded in
    `problems`, not fatal; nothing at all written is an error."""
    if not force:
        refuse_overwrite(folder, len(pieces))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise MgenError(f"cannot create output folder {folder}: {e.strerror}") from None
    out = Written(folder)
    for i, tokens in enumerate(pieces, 1):
        stem = folder / f"sample-{i:03d}"
        try:
            native = _write_one(tok.write, tokens, stem)
            out.paths.append(native)
            out.pieces += 1
            midi = stem.with_suffix(".mid")
            if native != midi:  # a MIDI-native tokenizer has just written it
                out.paths.append(_write_one(partial(to_midi, tok, native=native), tokens, midi))
        except DataError as e:
            out.problems.append(f"{stem.name}: {e}")
    if not out.paths:
        raise MgenError("no sample could be written (train longer, or try a sampling decoder)")
    return out


def _write_one(writer, tokens: list[str], path: Path) -> Path:
    try:
        return Path(writer(tokens, path))
    except OSError as e:
        raise MgenError(f"cannot write {path}: {e.strerror}") from None
