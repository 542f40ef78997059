"""Copies against everything a run trained on: an interval index of its whole training split.

The pieces come from the token cache (`mgen.core.data.prepare.run_split`, the exact split training
made), their top lines from the tokenizer's `melody` hook (no music21: folk-abc's 10,000 training
tunes take seconds); a tokenizer without the hook has each piece written with `to_midi` and read
back. Samples in the run's own format are read the same way (its `read`, then `melody`), so both
sides of a comparison go through one reader; other files use their notes' top line. The corpus
baseline is the run's validation pieces against the same index: how much held-out real music
shares with the training pieces. Without a run (`mgen eval --reference FILES`) every piece of
the reference files is indexed the same way (`whole_reference_index`), not only the pieces the
statistics read.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mgen.core.contracts import judge
from mgen.core.contracts.tokenizer import Tokenizer, to_midi
from mgen.core.data.corpus import Corpus
from mgen.evaluate import metrics
from mgen.evaluate.notes import Reader, Score, evenly, midi_piece, read_pieces, reader_for

if TYPE_CHECKING:
    from mgen.core.data.prepare import Split

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
    melodies: list[np.ndarray] | None = None  # the indexed top lines (a run's: what is cached)

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "pieces": len(self.names),
            "held_out_pieces": len(self.held),
            "held_out_against": "the rest of the index" if self.held_against else "the same index",
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
    """The top line of each chosen piece: the `melody` hook, else through its MIDI."""
    table = np.asarray(corpus.tokens, dtype=object)
    out = []
    with tempfile.TemporaryDirectory(prefix="mgen-melody-") as tmp:
        for i in ids:
            tokens = table[corpus.ids[corpus.offsets[i] : corpus.offsets[i + 1]]].tolist()
            out.append(token_melody(tok, tokens, Path(tmp)))
    return out


def token_melody(tok: Tokenizer, tokens: list[str], tmp: Path) -> np.ndarray:
    """One piece's top line from its tokens; empty when it has none or cannot be written."""
    found = judge.melody(tok, tokens)
    if found is not None:
        return np.asarray(found, dtype=np.int64)
    try:
        return midi_piece(to_midi(tok, tokens, tmp / "piece.mid")).melody()
    except Exception:  # noqa: BLE001 - a piece that cannot be written has no melody to copy
        return np.zeros(0, dtype=np.int64)


def training_index(
    config: dict[str, Any], tok: Tokenizer, log: Log, split: Split | None = None
) -> TrainingIndex:
    """The copy index of a run's whole training split (`config`: the run's config.json;
    `split`: its `run_split`, when the caller has it already)."""
    from mgen.core.data.prepare import run_split

    start = time.perf_counter()
    split = split or run_split(config, tok, log=log)
    names = piece_names(split.corpus)
    train = [int(i) for i in split.train]
    melodies = corpus_melodies(tok, split.corpus, train)
    index = metrics.CopyIndex(melodies)
    seconds = time.perf_counter() - start
    held = corpus_melodies(tok, split.held, evenly([int(i) for i in split.val], BASELINE_PIECES))
    data = config.get("train", {}).get("data") or []
    source = ", ".join(map(str, data)) or f"the {config.get('tokenizer')} default dataset"
    hook = judge.has_melody(tok)
    log(f"copy index: {len(train)} training pieces of {source} in {seconds:.1f} s")
    return TrainingIndex(
        index=index,
        names=[names[i] for i in train],
        held=held,
        source=f"{source} (the run's training split)",
        seconds=seconds,
        reader="the tokenizer's melody hook" if hook else "the tokenizer's to_midi",
        melodies=melodies,
    )


def reference_index(pieces: list[Score], source: str) -> TrainingIndex:
    """From pieces already read: the even ones indexed, the odd ones held out."""
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


def whole_reference_index(
    files: Sequence[Path], source: str, log: Log
) -> tuple[TrainingIndex, Tokenizer | None]:
    """Without a run: every piece of the reference `files` indexed (a plugin format through
    its token cache and `melody` hook, as a run's training split; MIDI and MusicXML through
    their notes), and the tokenizer the samples of that format are to be read with. The
    corpus baseline holds out a seeded 10% of the pieces (whole files where the format keeps
    a file's pieces together), up to BASELINE_PIECES of them, against an index of the rest."""
    start = time.perf_counter()
    melodies, names, groups, readers = _reference_melodies(files)
    held_ids, rest = _held_out(melodies, groups)
    index = metrics.CopyIndex(melodies)
    seconds = time.perf_counter() - start
    log(f"copy index: all {len(melodies):,} pieces of {source} in {seconds:.1f} s")
    toks = [r.tokenizer for r in readers if r.tokenizer is not None]
    idx = TrainingIndex(
        index=index, names=names, held=[melodies[i] for i in held_ids], source=source,
        seconds=seconds, reader=", ".join(dict.fromkeys(map(_melodies_from, readers))),
        held_against=metrics.CopyIndex([melodies[i] for i in rest]),
    )  # fmt: skip
    return idx, (toks[0] if len(toks) == 1 else None)


def _melodies_from(reader: Reader) -> str:
    tok = reader.tokenizer
    if tok is None:
        return "notes read from the files"
    return "the tokenizer's melody hook" if judge.has_melody(tok) else "the tokenizer's to_midi"


def _reference_melodies(files: Sequence[Path]):
    """(melodies, `file#n` names, a group per piece, the readers used) of every piece. A
    group is a file where its format keeps a file's pieces together, else the piece."""
    melodies: list[np.ndarray] = []
    names: list[str] = []
    groups: list[tuple] = []
    by_reader: dict[str, tuple[Reader, list[Path]]] = {}
    for f in files:
        reader = reader_for(f)
        if reader is not None:
            by_reader.setdefault(reader.name, (reader, []))[1].append(Path(f))
    for reader, group in by_reader.values():
        tok = reader.tokenizer
        found = _token_melodies(tok, group) if tok is not None else _note_melodies(group)
        whole = tok is None or tok.recipe.split_by == "file"  # a score's voices stay together
        for melody, piece, f in zip(*found, strict=True):
            melodies.append(melody)
            names.append(piece)
            groups.append((reader.name, f) if whole else (reader.name, f, len(groups)))
    return melodies, names, groups, [r for r, _ in by_reader.values()]


def _token_melodies(tok: Tokenizer, files: list[Path]):
    """The pieces of a plugin format from the token cache (parsed once, then cached)."""
    from mgen.core.data.corpus import load_corpus

    corpus = load_corpus(tok, sorted(files), progress=False, warn=lambda _: None)
    ids = range(len(corpus))
    return corpus_melodies(tok, corpus, ids), piece_names(corpus), corpus.piece_file.tolist()


def _note_melodies(files: list[Path]):
    """MIDI and MusicXML pieces through their notes."""
    melodies, names, owners = [], [], []
    for n, f in enumerate(files):
        for piece in read_pieces(f)[0]:
            melodies.append(piece.melody())
            names.append(Path(piece.name).name)
            owners.append(n)
    return melodies, names, owners


def _held_out(melodies: list[np.ndarray], groups: list[tuple]) -> tuple[list[int], list[int]]:
    """(held-out pieces, the rest): a seeded 10% split as training makes it, at most
    BASELINE_PIECES held, less those whose top line equals one of the rest's."""
    from mgen.core.data.batches import split_pieces

    first: dict[tuple, int] = {}
    keys = np.asarray([first.setdefault(g, len(first)) for g in groups], dtype=np.int64)
    rest, held = split_pieces(len(melodies), 0.1, 0, keys)
    seen = {melodies[i].tobytes() for i in rest}
    held = [int(i) for i in held if melodies[i].tobytes() not in seen]
    return evenly(held, BASELINE_PIECES), [int(i) for i in rest]


def sample_melodies(paths: Sequence[Path], pieces: list[Score], tok: Tokenizer | None):
    """{piece name: top line} of the judged pieces; files in `tok`'s own format are read
    through `tok` (its `read`, then `melody`), as the training pieces were."""
    out = {p.name: p.melody() for p in pieces}
    if tok is None or not judge.has_melody(tok):
        return out
    with tempfile.TemporaryDirectory(prefix="mgen-melody-") as tmp:
        for path in paths:
            reader = reader_for(path)
            if reader is None or reader.plugin is not type(tok):
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
