"""Training data in one call: files -> corpus (cached) -> split -> vocabulary -> windows."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mgen.core.contracts import registry
from mgen.core.contracts.errors import DataError
from mgen.core.contracts.judge import count_notes
from mgen.core.contracts.loops import neutral_ids
from mgen.core.contracts.tokenizer import Tokenizer
from mgen.core.contracts.vocab import Vocab
from mgen.core.contracts.vocabulary import build_vocab, require_vocab
from mgen.core.data.augment import transposed_counts, transposing
from mgen.core.data.batches import (
    Batches,
    PieceBatches,
    Streams,
    Windows,
    drop_duplicates,
    longest_run,
    longest_runs_after,
    piece_arrays,
    split_pieces,
    token_stream,
)
from mgen.core.data.controls import controlled
from mgen.core.data.corpus import Corpus, find_files, load_corpus
from mgen.core.data.infill import infilled
from mgen.core.data.learning import learned
from mgen.core.data.refill import refilling
from mgen.core.training.defaults import resolve
from mgen.core.training.distributed import Dist
from mgen.core.training.train_config import TrainConfig

Log = Callable[[str], None]


@dataclass
class TrainData:
    """What training needs from the data: a fitted tokenizer, the training batches (lanes
    read in order for a stateful model, else shuffled windows; `train.layout` says which) and
    the validation pieces."""

    tokenizer: Tokenizer
    train: Batches
    val_pieces: list[np.ndarray]  # each [len] ids from <start> to <end>
    val_notes: list[int] | None  # notes per validation piece (None: not counted)
    seq_len: int
    summary: dict[str, Any] = field(default_factory=dict)


def build_tokenizer(name: str, options: dict[str, Any]) -> Tokenizer:
    """The tokenizer plugin `name` with its settings (a dict, validated by its Config)."""
    cls = registry.load("tokenizer", name)
    return cls(cls.Config.from_dict(options))


def dataset_files(name: str, progress: bool = True) -> list[Path]:
    """The files of the dataset plugin `name` (written first if it must be)."""
    return registry.load("dataset", name)().files(progress=progress)


def corpus_files(tok: Tokenizer, data: Sequence[str], progress: bool = True) -> list[Path]:
    """Files named by `data` (files, folders or dataset names); none: the tokenizer's dataset."""
    if not data:
        if tok.recipe.dataset is None:
            raise DataError(f"{type(tok).__name__} has no default dataset; pass --data")
        return dataset_files(tok.recipe.dataset, progress)
    files: list[Path] = []
    for spec in data:
        if Path(spec).exists() or spec not in registry.names("dataset"):
            found = find_files([Path(spec)], tok.format.patterns)
            if not found:
                patterns = ", ".join(tok.format.patterns)
                raise DataError(f"no files matching {patterns} under {spec}")
            files += found
        else:
            files += dataset_files(spec, progress)
    return sorted(dict.fromkeys(files))


def prepare_data(
    tok: Tokenizer,
    data: Sequence[str],
    *,
    seq_len: int,
    batch_size: int,
    val_fraction: float = 0.1,
    val_data: Sequence[str] = (),
    seed: int = 0,
    batching: str = "lanes",
    fit: bool = True,
    workers: int = 0,
    log: Log = print,
    progress: bool = True,
    dist: Dist | None = None,
    controls: Sequence[str] = (),
    control_dropout: float = 0.4,
    control_every: int = 0,
    infill_share: float = 0.0,
) -> TrainData:
    """Read and split the corpus (`split_corpus`), open pieces by `controls` (data.controls),
    fill-in-the-middle (data.infill), fit the vocabulary unless not `fit`, cut the batches."""
    seq_len = seq_len or resolve(TrainConfig(), tok).seq_len
    read = functools.partial(split_corpus, tok, data, val_data, val_fraction, seed,
                             workers=workers, log=log, progress=progress, dist=dist)  # fmt: skip
    split, marks = controlled(learned(tok, read, dist, fit), tok, controls, control_dropout, seed,
                              control_every)  # fmt: skip
    notes = _notes(tok, split.held, split.val)  # of each piece as it is, before infilling
    split, fim = infilled(split, tok, infill_share, seed)
    corpus, train_ids, val_ids, dropped = split.corpus, split.train, split.val, split.dropped
    unknown, vocab = _vocab(tok, corpus.counts(train_ids), fit, log)
    stream = token_stream(corpus, train_ids, vocab)
    train, used = _batches(corpus, train_ids, vocab, stream, seq_len, batch_size, batching, log)
    val = piece_arrays(split.held, val_ids, vocab)
    summary = _summary(corpus, len(train_ids), len(val_ids), len(stream), sum(map(len, val)))
    summary.update(vocab_size=len(vocab), val_duplicates_dropped=dropped, unk_tokens=unknown,
                   batching=train.layout.name, **marks, **fim,
                   **_neutral_runs(tok, vocab, stream))  # fmt: skip
    _say(log, summary, dropped, corpus.from_cache)
    return TrainData(tok, _augmented(train, tok, vocab), val, notes, used, summary)


def _augmented(train: Any, tok: Tokenizer, vocab: Vocab) -> Batches:
    """The training batches, fill-in-the-middle pieces cut anew and pieces moved each epoch."""
    return transposing(refilling(train, tok, vocab), tok, vocab)


def _say(log: Log, summary: dict[str, Any], dropped: int, cached: bool) -> None:
    """One line on the data a run trains on."""
    s = summary
    log(
        f"data: {s['train_pieces']} training pieces ({s['train_tokens']:,} tokens), "
        f"{s['val_pieces']} validation pieces"
        f"{f' ({dropped} duplicates of training pieces dropped)' if dropped else ''}"
        f", vocabulary {s['vocab_size']}" + (" [cached]" if cached else "")
    )


def _neutral_runs(tok: Tokenizer, vocab: Vocab, stream: np.ndarray) -> dict[str, Any]:
    """How long the training data runs a hold, rest or time shift: overall, and after each
    token (the loop guards of argmax cap a run there; `Run.neutral_caps`)."""
    neutral = neutral_ids(tok, vocab)
    after = longest_runs_after(stream, neutral)
    return {
        "longest_neutral_run": longest_run(stream, neutral),
        "longest_neutral_run_after": {vocab.tokens[i]: n for i, n in sorted(after.items())},
    }


def _vocab(tok: Tokenizer, counts: Counter[str], fit: bool, log: Log) -> tuple[int, Vocab]:
    """Fit `tok`'s vocabulary on the training counts; or, fixed, count the tokens it lacks:
    (tokens read as <unk>, the vocabulary)."""
    if fit:
        return 0, build_vocab(tok, transposed_counts(tok, counts))
    return count_unknown(require_vocab(tok), counts, log), require_vocab(tok)


def count_unknown(vocab: Vocab, counts: Counter[str], log: Log) -> int:
    """A fixed vocabulary (a resumed or fine-tuned run) reads tokens it lacks as <unk>: how
    many of the training tokens, logged with the commonest."""
    missing = {t: n for t, n in counts.items() if t not in vocab}
    total = sum(missing.values())
    if total:
        common = sorted(missing, key=lambda t: -missing[t])[:5]
        log(f"{total:,} of {sum(counts.values()):,} training tokens ({len(missing)} distinct, "
            f"e.g. {', '.join(map(repr, common))}) are not in the vocabulary: read as <unk>")  # fmt: skip
    return total


@dataclass
class Split:
    """A training run's pieces: `corpus` (training files) with the indices it trained on, and
    `held` (the same corpus, or the --val-data files) with the validation indices."""

    corpus: Corpus
    held: Corpus
    train: np.ndarray
    val: np.ndarray
    dropped: int  # validation pieces dropped as duplicates of training pieces


def split_corpus(
    tok: Tokenizer,
    data: Sequence[str],
    val_data: Sequence[str] = (),
    val_fraction: float = 0.1,
    seed: int = 0,
    *,
    workers: int = 0,
    log: Log = print,
    progress: bool = True,
    dist: Dist | None = None,
) -> Split:
    """The corpus (from the cache after the first read) and its training/validation split,
    exactly as `prepare_data` makes it: `mgen eval` uses it to find what a run trained on."""
    dist = dist or Dist()
    corpus = _corpus(tok, data, workers, log, progress, dist)
    held = _corpus(tok, val_data, workers, log, progress, dist) if val_data else corpus
    train_ids, val_ids = _split(tok, corpus, held, val_fraction, seed)
    val_ids, dropped = drop_duplicates(corpus, train_ids, val_ids, held)
    return Split(corpus, held, train_ids, val_ids, dropped)


def run_split(config: dict[str, Any], tok: Tokenizer, log: Log = print) -> Split:
    """The split of a trained run, from its config.json (`Run.config`)."""
    train = config.get("train", {})
    return split_corpus(tok, train.get("data") or [], train.get("val_data") or [],
                        train.get("val_fraction", 0.1), train.get("seed", 0), log=log,
                        progress=False)  # fmt: skip


def _split(tok: Tokenizer, corpus: Corpus, held: Corpus, fraction: float, seed: int):
    """(training, validation) piece indices: all of `corpus` and all of `held` when they
    differ (--val-data), else a seeded split, whole files together if `tok.recipe.split_by` says."""
    if held is not corpus:
        return np.arange(len(corpus)), np.arange(len(held))
    groups = corpus.piece_file if tok.recipe.split_by == "file" else None
    return split_pieces(len(corpus), fraction, seed, groups)


def _corpus(tok, data, workers: int, log: Log, progress: bool, dist: Dist) -> Corpus:
    files = corpus_files(tok, data, progress)
    corpus = _load(tok, files, workers, log, progress, dist)
    _check_usable(tok, corpus, files, data, log)
    return corpus


def _batches(
    corpus: Corpus,
    train_ids: Sequence[int],
    vocab: Vocab,
    stream: np.ndarray,
    seq_len: int,
    batch_size: int,
    batching: str,
    log: Log,
) -> tuple[PieceBatches | Streams | Windows, int]:
    """Whole pieces, lanes or windows over the training pieces (`stream`: them end to end),
    with a shorter window when the corpus is too small for the asked one."""
    pieces = piece_arrays(corpus, train_ids, vocab) if batching == "pieces" else []
    room = {
        "pieces": max((len(p) - 1 for p in pieces), default=0),
        "lanes": len(stream) // batch_size,
        "piece-lanes": len(stream) // batch_size,
        "windows": len(stream) - 1,
    }[batching]
    used = min(seq_len, room)
    if used < 2:
        raise DataError("the training pieces are too short to train on (or --batch-size too big)")
    if used < seq_len:
        log(f"note: corpus is small; using --seq-len {used}")
    if batching == "pieces":
        return PieceBatches(pieces, used, batch_size), used
    if batching == "piece-lanes":  # every piece opens a window: see Streams
        aligned = token_stream(corpus, train_ids, vocab, align=used)
        return Streams(aligned, used, batch_size, aligned=True), used
    if batching == "lanes":
        return Streams(stream, used, batch_size), used
    return Windows(stream, used, batch_size), used


def _notes(tok: Tokenizer, corpus: Corpus, pieces: np.ndarray) -> list[int] | None:
    """Notes per piece as the tokenizer counts them; None if it does not count notes."""
    counts = [count_notes(tok, corpus.piece(int(i))) for i in pieces]
    if not counts or any(c is None for c in counts):
        return None
    return [int(c) for c in counts]  # type: ignore[arg-type]


def _check_usable(
    tok: Tokenizer, corpus: Corpus, files: list[Path], data: Sequence[str], log: Log
) -> None:
    if corpus.skipped:
        log(f"skipped {len(corpus.skipped)} of {len(files)} files (see warnings above)")
    if len(corpus) == 0:
        where = ", ".join(data) or "the default dataset"
        raise DataError(
            f"no usable piece in {len(files)} file(s) under {where} "
            f"(patterns {', '.join(tok.format.patterns)})"
        )


def _summary(corpus: Corpus, *sizes: int) -> dict[str, Any]:
    """config.json's data block: what was read, used, skipped, and the split's sizes."""
    train_pieces, val_pieces, train_tokens, val_tokens = sizes
    return {
        "files": len(corpus.files) + len(corpus.skipped),
        "used_files": len(corpus.files),
        "skipped": len(corpus.skipped),
        "pieces": len(corpus),
        "train_pieces": train_pieces,
        "val_pieces": val_pieces,
        "train_tokens": train_tokens,
        "val_tokens": val_tokens,
        "cached": corpus.from_cache,
    }


def _load(tok: Tokenizer, files: list[Path], workers: int, log: Log, progress: bool, dist: Dist):
    """Each machine's first process parses (and caches) the corpus; its neighbours wait,
    then read the cache instead of parsing it again."""
    if not dist.is_local_main:
        dist.barrier()
    corpus: Corpus = load_corpus(tok, files, workers=workers or None, progress=progress, warn=log)
    if dist.is_local_main:
        dist.barrier()
    return corpus


def prepare_dataset(
    name: str, *, workers: int = 0, progress: bool = True, log: Log = print
) -> tuple[list[Path], Corpus, Path]:
    """Write the dataset `name` if it must be, and parse and cache its tokens for its
    tokenizer's default settings: (files, corpus, cache file)."""
    from mgen.core.data.corpus import corpus_cache_path

    dataset = registry.load("dataset", name)()
    tok = build_tokenizer(dataset.tokenizer, {})
    files = dataset.files(progress=progress)
    corpus = load_corpus(tok, files, workers=workers or None, progress=progress, warn=log)
    return files, corpus, corpus_cache_path(tok, files)
