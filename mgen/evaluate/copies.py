"""Copies against everything a run trained on: an interval index of its whole training split.

The pieces come from the token cache (`mgen.core.prepare.run_split`, the exact split training
made), their top lines from the tokenizer's `melody` hook (no music21: folk-abc's 10,000 training
tunes take seconds); a tokenizer without the hook has each piece written with `to_midi` and read
back. Samples in the run's own format are read the same way (its `read`, then `melody`), so both
sides of a comparison go through one reader; other files use their notes' top line. The corpus
baseline is the run's validation pieces against the same index: how much held-out real music
shares with the training pieces.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mgen.core.corpus import Corpus
from mgen.core.tokenizer import Tokenizer
from mgen.evaluate import metrics
from mgen.evaluate.notes import Piece, evenly, midi_piece, reader_for

Log = Callable[[str], None]
BASELINE_PIECES = 300  # validation pieces judged for the corpus baseline (spread evenly)


@dataclass
class TrainingIndex:
    """A copy index over named pieces, with held-out pieces of the same corpus for a baseline."""

    index: metrics.CopyIndex
    names: list[str]  # per indexed piece: "file#n"
    held: list[np.ndarray]  # top lines of held-out pieces (the baseline's "samples")
    source: str
    seconds: float  # to read the melodies and build the index
    reader: str  # how the melodies were read
    held_against: metrics.CopyIndex | None = None  # the baseline's index, if not `index`
    held_copies: list[int] | None = None  # the held pieces' longest copies, if known already

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "pieces": len(self.names),
            "held_out_pieces": len(self.held),
            "seconds": round(self.seconds, 2),
            "melodies_from": self.reader,
        }


def piece_names(corpus: Corpus) -> list[str]:
    """`file#n` for every piece of a corpus: its file's name and its place in that file."""
    names, seen = [], {}
    for f in corpus.piece_file.tolist():
        seen[f] = seen.get(f, 0) + 1
        names.append(f"{Path(corpus.files[f]).name}#{seen[f]}")
    return names


def corpus_melodies(tok: Tokenizer, corpus: Corpus, ids: Sequence[int]) -> list[np.ndarray]:
    """The top line of each chosen piece: the `melody` hook, else through `to_midi`."""
    table = np.asarray(corpus.tokens, dtype=object)
    out = []
    with tempfile.TemporaryDirectory(prefix="mgen-melody-") as tmp:
        for i in ids:
            tokens = table[corpus.ids[corpus.offsets[i] : corpus.offsets[i + 1]]].tolist()
            out.append(token_melody(tok, tokens, Path(tmp)))
    return out


def token_melody(tok: Tokenizer, tokens: list[str], tmp: Path) -> np.ndarray:
    """One piece's top line from its tokens; empty when it has none or cannot be written."""
    found = tok.melody(tokens)
    if found is not None:
        return np.asarray(found, dtype=np.int64)
    try:
        return midi_piece(tok.to_midi(tokens, tmp / "piece.mid")).melody()
    except Exception:  # noqa: BLE001 - a piece that cannot be written has no melody to copy
        return np.zeros(0, dtype=np.int64)


def training_index(config: dict[str, Any], tok: Tokenizer, log: Log) -> TrainingIndex:
    """The copy index of a run's whole training split (`config`: the run's config.json)."""
    from mgen.core.prepare import run_split

    start = time.perf_counter()
    split = run_split(config, tok, log=log)
    names = piece_names(split.corpus)
    train = [int(i) for i in split.train]
    index = metrics.CopyIndex(corpus_melodies(tok, split.corpus, train))
    seconds = time.perf_counter() - start
    held = corpus_melodies(tok, split.held, evenly([int(i) for i in split.val], BASELINE_PIECES))
    data = config.get("train", {}).get("data") or []
    source = ", ".join(map(str, data)) or f"the {config.get('tokenizer')} default dataset"
    hook = type(tok).melody is not Tokenizer.melody
    log(f"copy index: {len(train)} training pieces of {source} in {seconds:.1f} s")
    return TrainingIndex(
        index=index,
        names=[names[i] for i in train],
        held=held,
        source=f"{source} (the run's training split)",
        seconds=seconds,
        reader="the tokenizer's melody hook" if hook else "the tokenizer's to_midi",
    )


def reference_index(pieces: list[Piece], source: str) -> TrainingIndex:
    """Without a run: the reference's even pieces indexed, its odd ones held out."""
    start = time.perf_counter()
    melodies = [p.melody() for p in pieces]
    return TrainingIndex(
        index=metrics.CopyIndex(melodies),
        names=[p.name for p in pieces],
        held=melodies[1::2],
        source=source,
        seconds=time.perf_counter() - start,
        reader="notes read from the files",
        held_against=metrics.CopyIndex(melodies[::2]),
    )


def sample_melodies(paths: Sequence[Path], pieces: list[Piece], tok: Tokenizer | None):
    """{piece name: top line} of the judged pieces; files in `tok`'s own format are read
    through `tok` (its `read`, then `melody`), as the training pieces were."""
    out = {p.name: p.melody() for p in pieces}
    if tok is None or type(tok).melody is Tokenizer.melody:
        return out
    with tempfile.TemporaryDirectory(prefix="mgen-melody-") as tmp:
        for path in paths:
            reader = reader_for(path)
            if (
                reader is None
                or reader.tokenizer is None
                or type(reader.tokenizer) is not type(tok)
            ):
                continue
            try:
                token_pieces = tok.read(Path(path))
            except Exception:  # noqa: BLE001 - an unreadable file keeps its notes' melody
                continue
            for i, tokens in enumerate(token_pieces, 1):
                name = str(path) if len(token_pieces) == 1 else f"{path}#{i}"
                if name in out:
                    out[name] = token_melody(tok, tokens, Path(tmp))
    return out


def novelty(melodies: dict[str, np.ndarray], idx: TrainingIndex) -> dict[str, Any]:
    """Per piece its longest copy and where from; the share copied, beside the baseline's."""
    rows = []
    for name, melody in melodies.items():
        notes, src = idx.index.find(melody)
        rows.append({"piece": name, "notes": int(notes), "source": _name(idx, src)})
    against = idx.held_against or idx.index
    held = idx.held_copies
    if held is None:
        held = [against.find(m)[0] for m in idx.held if len(m)]
    copied = [r for r in rows if r["notes"] >= metrics.COPY_NOTES]
    return {
        "index": idx.summary(),
        "pieces": rows,
        "longest_copy_mean": float(np.mean([r["notes"] for r in rows])) if rows else 0.0,
        "longest_copy_max": max((r["notes"] for r in rows), default=0),
        "copied": len(copied),
        "copied_share": len(copied) / len(rows) if rows else 0.0,
        "copied_pieces": copied,
        "copy_threshold": metrics.COPY_NOTES,
        "corpus_longest_copy_mean": float(np.mean(held)) if held else None,
        "corpus_copied_share": float(np.mean(np.asarray(held) >= metrics.COPY_NOTES))
        if held
        else None,
    }


def _name(idx: TrainingIndex, src: int | None) -> str | None:
    return None if src is None else idx.names[src]
