"""What judging a model's batch needs, built once per machine and kept on disk.

A batch is judged against the model's corpus reference (REFERENCE_LIMIT pieces read with their
format's reader, music21 for most) and a copy index of its whole training split (read from the
token cache, `mgen.core.data.prepare.run_split`). Building them takes seconds for a small run and
minutes the first time for a big corpus (the shipped palestrina-kern: ~200 s to tokenize its
1,321 files, then ~15 s to read the reference), so `mgen serve` builds them in a background
process (`prepare`) and keeps the result under `<cache>/judges/`, next to the token caches.
Loading it (`load`) takes well under a second; the server never builds inside a request.

The file is an .npz of arrays and one JSON text, read with `allow_pickle=False`: nothing in the
cache can run code. Its name is a hash of everything the result depends on: the run's
config.json and tokenizer.json, the corpus files (paths, sizes, modification times), the
reference size, and mgen's version.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mgen.core.contracts.errors import DataError, MgenError
from mgen.formats.score import DEFAULT_BAR, DEFAULT_VELOCITY

REFERENCE_LIMIT = 40  # corpus pieces a batch is judged against (music21 reads ~6 a second)
FORMAT = 4  # the cache file's layout and content; bump it when either changes (2: the
# reference drawn from the run's validation split; 3: built by `report.run_reference`, which
# names a run's --val-data as the reference's source; 4: each reference note's track, so music
# in voices is judged voice by voice)


class NotPrepared(MgenError):
    """The model's judge data is not built yet (the server then builds it in the background)."""


@dataclass
class Source:
    """A run's judge inputs: its config, tokenizer and corpus files, and the cache key."""

    config: dict[str, Any]
    tokenizer: Any  # mgen.core.contracts.tokenizer.Tokenizer
    files: list[Path]  # the reference's candidates: readable corpus files
    name: str  # e.g. "the kern default dataset"
    key: str


def _quiet(_: str) -> None:
    pass


def _unwritten(tok: Any, specs: list[str]) -> list[str]:
    """The datasets among `specs` (none: the tokenizer's own) whose files are not written yet
    (`mgen.core.data.prepare.corpus_files` writes them first: minutes for bach-midi)."""
    from mgen.core.contracts import registry

    names = registry.names("dataset")
    wanted = [s for s in specs if not Path(s).exists() and s in names] if specs else []
    if not specs and tok.recipe.dataset in names:
        wanted = [tok.recipe.dataset]
    return [n for n in wanted if not registry.load("dataset", n)().ready()]


def source(run: Path, write: bool = False) -> Source:
    """The judge inputs of the run directory `run` (its model weights are not read). A
    dataset not written yet is written with `write` (the builder), else NotPrepared."""
    from mgen import __version__
    from mgen.core.data.prepare import corpus_files
    from mgen.core.runs.artifact import RunDir
    from mgen.evaluate.notes import reader_for
    from mgen.evaluate.report import run_context

    ctx = run_context(run)
    train = ctx.config.get("train", {})
    data = [str(d) for d in train.get("data") or []]
    val = [str(d) for d in train.get("val_data") or []]
    unwritten = [] if write else _unwritten(ctx.tokenizer, data)
    unwritten += _unwritten(ctx.tokenizer, val) if val and not write else []
    if unwritten:
        raise NotPrepared(f"the dataset {', '.join(unwritten)} is not written yet")
    files = corpus_files(ctx.tokenizer, data, progress=False)
    held = corpus_files(ctx.tokenizer, val, progress=False) if val else []
    digest = hashlib.sha256()
    for part in (f"{FORMAT} {__version__} {REFERENCE_LIMIT}", *RunDir(run).identity()):
        digest.update(part if isinstance(part, bytes) else part.encode())
    for f in files + held:
        stat = f.stat()
        digest.update(f"\0{f}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    name = ", ".join(data) or f"the {ctx.config.get('tokenizer')} default dataset"
    readable = [f for f in files if reader_for(f)]
    return Source(ctx.config, ctx.tokenizer, readable, name, digest.hexdigest()[:32])


def cache_file(key: str) -> Path:
    from mgen.core.data.corpus import cache_dir

    return cache_dir() / "judges" / f"{key}.npz"


@dataclass
class JudgeData:
    """A run's reference and what its copy index is made from (the index itself is made
    afresh for each judgement: the window sets its `find` keeps grow to hundreds of MB for a
    big corpus, and go with it when the judgement ends)."""

    reference: Any  # mgen.evaluate.report.Reference
    melodies: list[np.ndarray]  # the top line of each training piece
    held: list[np.ndarray]  # held-out pieces' top lines (the corpus baseline)
    held_copies: list[int]  # each held-out piece's longest copy (computed once, here)
    names: list[str]  # per training piece: "file#n"
    source: str
    seconds: float
    reader: str

    def index(self) -> Any:
        """A fresh `copies.TrainingIndex` (0.2 s for the shipped palestrina-kern)."""
        from mgen.evaluate import copies, metrics

        return copies.TrainingIndex(
            index=metrics.CopyIndex(self.melodies), names=self.names, held=self.held,
            source=self.source, seconds=self.seconds, reader=self.reader,
            held_copies=self.held_copies,
        )  # fmt: skip


def build(src: Source) -> JudgeData:
    """A run's judge data: the slow part, minutes for a big corpus whose token cache is cold.
    The reference and copy index are built as `mgen eval --run` builds them
    (`report.run_reference`); the index's melodies are what is kept."""
    from mgen.evaluate.report import run_reference

    if not src.files:
        raise DataError(f"no readable music files in {src.name}")
    how = run_reference(src.config, src.tokenizer, REFERENCE_LIMIT)
    index = how.index
    assert index is not None and index.melodies is not None  # a run's training index
    return JudgeData(
        reference=how.reference, melodies=index.melodies, held=index.held,
        held_copies=[index.index.find(m)[0] for m in index.held if len(m)],
        names=index.names, source=index.source, seconds=index.seconds, reader=index.reader,
    )  # fmt: skip


def prepare(run: Path) -> dict[str, Any]:
    """Make sure the judge data of `run` is on disk (the background builder's job)."""
    src = source(run, write=True)
    if _read(cache_file(src.key)) is not None:
        return {"built": False}
    data = build(src)
    save(cache_file(src.key), data)
    return {"built": True, "seconds": round(data.seconds, 1)}


def load(src: Source) -> JudgeData:
    """The judge data from the disk cache; NotPrepared when it is not there."""
    found = _read(cache_file(src.key))
    if found is None:
        raise NotPrepared(f"the judge data of {src.name} is not built yet")
    return found


# -- the file ------------------------------------------------------------------------------------


def _pack(arrays: list[np.ndarray], dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """Ragged arrays as (all values joined, offsets)."""
    offsets = np.cumsum([0] + [len(a) for a in arrays], dtype=np.int64)
    joined = np.concatenate([np.asarray(a, dtype) for a in arrays]) if arrays else np.zeros(0)
    return joined.astype(dtype), offsets


def _unpack(joined: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    return [joined[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)]


def save(path: Path, data: JudgeData) -> None:
    """Write the judge data atomically (a reader sees the old file or the whole new one)."""
    from mgen.core.contracts.io import atomic_path

    ref = data.reference
    pieces = ref.pieces
    notes = [_voiced(p) for p in pieces]
    meta = {
        "reference": {"source": ref.source, "files": ref.files, "checks": ref.checks,
                      "names": [p.name for p in pieces], "bars": [p.bar_length for p in pieces],
                      "units": [[u.name, u.errors, u.form] for u in ref.units],
                      "tracks": [n[1] for n in notes]},
        "index": {"names": data.names, "source": data.source, "seconds": data.seconds,
                  "reader": data.reader, "held_copies": [int(n) for n in data.held_copies]},
    }  # fmt: skip
    arrays: dict[str, np.ndarray] = {"meta": np.frombuffer(json.dumps(meta).encode(), np.uint8)}
    columns = (("pitch", np.int32), ("onset", np.float64), ("duration", np.float64),
               ("track", np.int32))  # fmt: skip
    for i, (field, dtype) in enumerate(columns):
        arrays[field], arrays["piece_offsets"] = _pack([n[0][i] for n in notes], dtype)
    arrays["train"], arrays["train_offsets"] = _pack(data.melodies, np.int32)
    arrays["held"], arrays["held_offsets"] = _pack(data.held, np.int32)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(buffer.getvalue())
    except MgenError as e:
        raise DataError(f"cannot keep the judge data: {e}") from None


def _voiced(piece: Any) -> tuple[tuple[np.ndarray, ...], list[list[Any]]]:
    """((pitch, onset, duration, track) of the piece's sounding notes in the order of its
    flat view, [[name, program] of each pitched track])."""
    tracks = [t for t in piece.tracks if not t.is_drum]
    if not tracks:
        return (np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0)), []
    cols = [np.concatenate([getattr(t, c) for t in tracks]) for c in ("pitch", "onset", "duration")]
    which = np.concatenate([np.full(len(t), i) for i, t in enumerate(tracks)])
    order = np.lexsort((cols[0], cols[1]))
    order = order[cols[2][order] > 0]
    return (*(c[order] for c in cols), which[order]), [[t.name, int(t.program)] for t in tracks]


def _read(path: Path) -> JudgeData | None:
    """The judge data in `path`; None when it is missing or unreadable (it is built again)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode())
            arrays = {k: z[k] for k in z.files if k != "meta"}
        index = meta["index"]
        return JudgeData(
            reference=_reference(meta["reference"], arrays),
            melodies=_unpack(arrays["train"], arrays["train_offsets"]),
            held=_unpack(arrays["held"], arrays["held_offsets"]),
            held_copies=[int(n) for n in index["held_copies"]],
            names=list(index["names"]), source=index["source"],
            seconds=float(index["seconds"]), reader=index["reader"],
        )  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def _reference(meta: dict[str, Any], z: dict[str, np.ndarray]) -> Any:
    from mgen.evaluate import baseline
    from mgen.evaluate.report import Reference
    from mgen.evaluate.validity import Unit

    off = z["piece_offsets"]
    columns = [_unpack(z[f], off) for f in ("pitch", "onset", "duration", "track")]
    pieces = [
        _piece(name, float(bar), tracks, pitch.astype(np.int64), onset, duration, track)
        for name, bar, tracks, pitch, onset, duration, track in zip(
            meta["names"], meta["bars"], meta["tracks"], *columns, strict=True
        )
    ]
    units = [Unit(name, list(errors), dict(form)) for name, errors, form in meta["units"]]
    corpus = baseline.corpus_figures(pieces, units)  # cheap (~0.1 s), and always today's figures
    return Reference(meta["source"], meta["files"], pieces, units, meta["checks"], corpus)


def _piece(name: str, bar: float, tracks: list[list[Any]], *columns: np.ndarray) -> Any:
    """A reference piece as kept: one track, or each of its tracks named, with its notes."""
    from mgen.formats.score import Score, Track, meter_of, single

    pitch, onset, duration, track = columns
    if len(tracks) <= 1:
        return single(name, pitch, onset, duration, bar)
    parts = []
    for i, (part, program) in enumerate(tracks):
        mine = track == i
        parts.append(Track(str(part), int(program), False, onset[mine], duration[mine],
                           pitch[mine], np.full(int(mine.sum()), DEFAULT_VELOCITY)))  # fmt: skip
    return Score(name, parts, meters=[[0.0, *meter_of(bar if bar > 0 else DEFAULT_BAR)]])
