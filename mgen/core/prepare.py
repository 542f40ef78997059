"""Training data in one call: files -> corpus (cached) -> split -> vocabulary -> windows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mgen.core import registry
from mgen.core.batches import Windows, split_pieces, token_stream
from mgen.core.corpus import Corpus, find_files, load_corpus
from mgen.core.distributed import Dist
from mgen.core.errors import DataError
from mgen.core.tokenizer import Tokenizer

Log = Callable[[str], None]


@dataclass
class TrainData:
    """What training needs from the data: a fitted tokenizer and the two window sets."""

    tokenizer: Tokenizer
    train: Windows
    val: Windows
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
        if tok.default_dataset is None:
            raise DataError(f"{type(tok).__name__} has no default dataset; pass --data")
        return dataset_files(tok.default_dataset, progress)
    files: list[Path] = []
    for spec in data:
        if Path(spec).exists() or spec not in registry.names("dataset"):
            found = find_files([Path(spec)], tok.file_patterns)
            if not found:
                patterns = ", ".join(tok.file_patterns)
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
    val_fraction: float,
    seed: int,
    fit: bool = True,
    workers: int = 0,
    log: Log = print,
    progress: bool = True,
    dist: Dist | None = None,
) -> TrainData:
    """Read (or load from the cache) the corpus, split it by piece, fit `tok`'s vocabulary on
    the training side unless `fit` is off (a resumed run keeps its own), and cut windows."""
    files = corpus_files(tok, data, progress)
    corpus = _load(tok, files, workers, log, progress, dist or Dist())
    _check_usable(tok, corpus, files, data, log)
    train_ids, val_ids = split_pieces(len(corpus), val_fraction, seed)
    if fit:
        tok.fit(corpus.counts(train_ids))
    vocab = tok.require_vocab()
    train, val = token_stream(corpus, train_ids, vocab), token_stream(corpus, val_ids, vocab)
    used = min(seq_len, len(train) - 1)
    if used < 2:
        raise DataError("the training pieces are too short to train on")
    if used < seq_len:
        log(f"note: corpus is small; using --seq-len {used}")
    summary = _summary(files, corpus, len(train_ids), len(val_ids), len(train), len(val))
    summary["vocab_size"] = len(vocab)
    log(
        f"data: {len(corpus)} pieces from {len(corpus.files)} files ({len(train_ids)} train / "
        f"{len(val_ids)} validation), {len(train):,} training tokens, vocabulary {len(vocab)}"
        + (" [cached]" if corpus.from_cache else "")
    )
    val_windows = Windows(val, min(used, max(1, len(val) - 1)), batch_size)
    return TrainData(tok, Windows(train, used, batch_size), val_windows, used, summary)


def _check_usable(
    tok: Tokenizer, corpus: Corpus, files: list[Path], data: Sequence[str], log: Log
) -> None:
    if corpus.skipped:
        log(f"skipped {len(corpus.skipped)} of {len(files)} files (see warnings above)")
    if len(corpus) == 0:
        where = ", ".join(data) or "the default dataset"
        raise DataError(
            f"no usable piece in {len(files)} file(s) under {where} "
            f"(patterns {', '.join(tok.file_patterns)})"
        )


def _summary(files: list[Path], corpus: Corpus, *sizes: int) -> dict[str, Any]:
    """config.json's data block: what was read, used, skipped, and the split's sizes."""
    train_pieces, val_pieces, train_tokens, val_tokens = sizes
    return {
        "files": len(files),
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
    from mgen.core.corpus import corpus_cache_path

    dataset = registry.load("dataset", name)()
    tok = build_tokenizer(dataset.tokenizer, {})
    files = dataset.files(progress=progress)
    corpus = load_corpus(tok, files, workers=workers or None, progress=progress, warn=log)
    return files, corpus, corpus_cache_path(tok, files)
