"""Corpus pipeline: find files, parse them on every core, cache their token ids.

The cache holds one corpus as compact arrays keyed by the files' contents and the tokenizer's
name, version and settings, so a second run on the same data starts without re-parsing.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import multiprocessing as mp
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mgen.core.contracts.errors import DataError, MgenError
from mgen.core.contracts.learning import learns
from mgen.core.contracts.state import extra_state, load_extra_state
from mgen.core.contracts.tokenizer import Tokenizer

Warn = Callable[[str], None]


def cache_dir() -> Path:
    """`$MGEN_CACHE_DIR`, else `$XDG_CACHE_HOME/mgen`, else `~/.cache/mgen`."""
    if os.environ.get("MGEN_CACHE_DIR"):
        return Path(os.environ["MGEN_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mgen"


def find_files(paths: Sequence[Path], patterns: Sequence[str]) -> list[Path]:
    """Files named directly, plus files under folders matching the patterns (as `rglob` finds
    them: symlinked folders are not entered); resolved, sorted, unique."""
    found: set[Path] = set()
    for p in map(Path, paths):
        if p.is_file():
            found.add(p.resolve())
        elif p.is_dir():
            found.update(_walk(p.resolve(), patterns))
        elif p.exists():  # a device (/dev/zero), a pipe or a socket: never read
            raise DataError(f"not a regular file or folder: {p}")
        else:
            raise DataError(f"no such file or folder: {p}")
    return sorted(found, key=lambda f: f.parts)  # Path's own order, without its slow __lt__


def _walk(folder: Path, patterns: Sequence[str]) -> Iterator[Path]:
    """Matching files under the resolved `folder`: one scandir per folder, and a resolve only
    for symlinks (20,000 files: 0.1 s where rglob and a resolve per file took 3 s)."""
    stack = [folder]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                stack.append(Path(e.path))
            elif any(fnmatch.fnmatch(e.name, pat) for pat in patterns):
                if not e.is_symlink():
                    if e.is_file(follow_symlinks=False):
                        yield Path(e.path)
                elif (target := Path(e.path).resolve()).is_file():
                    yield target


@dataclass
class Corpus:
    """Parsed pieces as one id array over `tokens` (every distinct token seen)."""

    tokens: list[str]  # raw vocabulary: id -> token string
    ids: np.ndarray  # [N] uint16 (int32 past 65,536 tokens), all pieces; memory-mapped from cache
    offsets: np.ndarray  # [P+1] int64, piece p is ids[offsets[p]:offsets[p+1]]
    piece_file: np.ndarray  # [P] int32, index into files
    files: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    from_cache: bool = False

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def piece(self, i: int) -> list[str]:
        return [self.tokens[j] for j in self.ids[self.offsets[i] : self.offsets[i + 1]]]

    def counts(self, pieces: Sequence[int]) -> Counter[str]:
        """Token counts over the chosen pieces."""
        if len(pieces) == 0:
            return Counter()
        parts = [self.ids[self.offsets[i] : self.offsets[i + 1]] for i in pieces]
        hist = np.bincount(np.concatenate(parts), minlength=len(self.tokens))
        return Counter({t: int(c) for t, c in zip(self.tokens, hist, strict=True) if c})


# -- parsing --------------------------------------------------------------------------------

_worker_tok: Tokenizer | None = None


def _init_worker(cls: type[Tokenizer], config: dict, learned: dict | None) -> None:
    """The worker's own tokenizer: the configured one, with what it learned (contracts.learning)."""
    global _worker_tok
    _worker_tok = cls(cls.Config.from_dict(config))
    if learned is not None:
        load_extra_state(_worker_tok, learned)


#: One file's pieces as (its own token table, ids [N] int32 into it, piece lengths).
Encoded = tuple[list[str], np.ndarray, list[int]]


def _read_one(path: str) -> tuple[str, Encoded | None, str | None]:
    assert _worker_tok is not None
    return _read_with(_worker_tok, path)


def _read_with(tok: Tokenizer, path: str) -> tuple[str, Encoded | None, str | None]:
    try:
        pieces = [p for p in tok.read(Path(path)) if p]
    except MgenError as e:
        return path, None, str(e)
    except Exception as e:  # noqa: BLE001 - any parser failure on one file skips that file only
        return path, None, f"{type(e).__name__}: {e}"
    if not pieces:
        return path, None, "no usable piece"
    return path, _encode(pieces), None


def _encode(pieces: list[list[str]]) -> Encoded:
    """Ids into a per-file token table, built in the worker: the per-token dictionary work runs
    on every core, and one int32 array travels back far cheaper than millions of small strings."""
    index: dict[str, int] = {}
    ids = [index.setdefault(t, len(index)) for p in pieces for t in p]  # new token: next id
    return list(index), np.asarray(ids, dtype=np.int32), [len(p) for p in pieces]


#: Fewer files than this are parsed in this process: starting workers would cost more.
PARALLEL_MIN_FILES = 16


def _parse(tok: Tokenizer, files: list[Path], workers: int, progress: bool):
    from tqdm import tqdm

    paths = [str(f) for f in files]
    bar = dict(total=len(paths), desc="parsing", unit="file", disable=not progress, leave=False)
    if workers <= 1 or len(paths) < PARALLEL_MIN_FILES:
        return [_read_with(tok, p) for p in tqdm(paths, **bar)]
    # fork is cheap and safe here: no torch thread pool has started before data loading.
    ctx = mp.get_context("fork" if sys.platform == "linux" else "spawn")
    with ProcessPoolExecutor(
        workers,
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(type(tok), tok.config.to_dict(), _learned(tok)),
    ) as pool:
        chunk = max(1, min(64, len(paths) // (workers * 8)))
        return list(tqdm(pool.map(_read_one, paths, chunksize=chunk), **bar))


def corpus_cache_path(tok: Tokenizer, files: list[Path]) -> Path:
    """Where `load_corpus` caches these files' tokens for this tokenizer and its settings."""
    return cache_dir() / "corpora" / f"{_cache_key(tok, files)}.npz"


def _learned(tok: Tokenizer) -> dict | None:
    """What a learning tokenizer's `read` depends on besides its config (contracts.learning)."""
    return extra_state(tok) if learns(tok) else None


def _cache_key(tok: Tokenizer, files: list[Path]) -> str:
    """Hash of the tokenizer's identity and every file's contents.

    Reading every file costs a cached start more than loading its tokens, so the key is
    remembered under a hash of the files' (path, size, mtime, inode): unchanged files are only
    stat'ed. Any edit changes the mtime, which misses the memo and hashes the contents again.
    """
    identity = {
        "tokenizer": type(tok).__module__ + "." + type(tok).__qualname__,
        "version": tok.version,
        "config": tok.config.to_dict(),
    }
    if learns(tok):  # only then: the keys of other tokenizers' caches stay as they were
        identity["learned"] = _learned(tok)
    meta = json.dumps(identity, sort_keys=True).encode()
    stats = hashlib.sha256(meta)
    for f in files:
        st = f.stat()
        stats.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\n".encode())
    memo = cache_dir() / "corpora" / "keys" / stats.hexdigest()[:32]
    with contextlib.suppress(OSError):
        key = memo.read_text(encoding="ascii").strip()
        if len(key) == 32:
            return key
    h = hashlib.sha256(meta)
    for f in files:
        h.update(hashlib.sha256(f.read_bytes()).digest())
    key = h.hexdigest()[:32]
    _write_quietly(memo, key.encode())
    return key


def _write_quietly(path: Path, data: bytes) -> None:
    """Write a cache file atomically; a read-only cache folder only costs the next run time."""
    from mgen.core.contracts.io import atomic_path

    with contextlib.suppress(MgenError), atomic_path(path) as tmp:
        tmp.write_bytes(data)


def load_corpus(
    tok: Tokenizer,
    files: list[Path],
    *,
    workers: int | None = None,
    use_cache: bool = True,
    progress: bool = True,
    warn: Warn = print,
) -> Corpus:
    """Parse `files` (or load them from the cache). Unusable files are skipped with a warning."""
    if not files:
        raise DataError("no files to read")
    path = corpus_cache_path(tok, files) if use_cache else Path()
    if use_cache and path.exists():
        try:
            cached = _here(_load_cached(path), files)
        except (OSError, ValueError, KeyError):
            warn(f"warning: ignoring unreadable corpus cache {path}")
        else:
            if cached is not None:
                return cached
    results = _parse(tok, files, workers or os.cpu_count() or 1, progress)
    corpus = _assemble(results)
    for f, reason in corpus.skipped:
        warn(f"warning: skipped {f}: {reason}")
    if use_cache:
        _save_cached(path, corpus)
    return corpus


def _here(corpus: Corpus, files: list[Path]) -> Corpus | None:
    """A cached corpus with the paths of `files`. The cache is keyed by the files' contents, so
    the same files copied elsewhere find the pieces read from the first copy, named by its
    paths (a piece's collection is its folder's name: controls); the i-th file now holds what
    the i-th held then. None (read again) where skipped files leave that mapping unknown."""
    now = [str(f) for f in files]
    if corpus.files == now:
        return corpus
    if sorted([*corpus.files, *(path for path, _ in corpus.skipped)]) == sorted(now):
        return corpus  # the same files, some skipped when they were read
    if corpus.skipped or len(corpus.files) != len(now):
        return None
    corpus.files = now
    return corpus


def _assemble(results) -> Corpus:
    """Merge the files' own token tables into one; ids are remapped with one lookup per file."""
    index: dict[str, int] = {}
    chunks, lengths, piece_file, files, skipped = [], [], [], [], []
    for path, encoded, err in results:
        if err is not None:
            skipped.append((path, err))
            continue
        local, ids, piece_lengths = encoded
        lut = np.asarray([index.setdefault(t, len(index)) for t in local], dtype=np.int32)
        chunks.append(lut[ids])
        lengths.extend(piece_lengths)
        piece_file.extend([len(files)] * len(piece_lengths))
        files.append(path)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    dtype = id_dtype(len(index))
    ids = np.concatenate(chunks).astype(dtype) if chunks else np.zeros(0, dtype=dtype)
    return Corpus(list(index), ids, offsets, np.asarray(piece_file, dtype=np.int32), files, skipped)


def id_dtype(n_tokens: int) -> type[np.unsignedinteger] | type[np.signedinteger]:
    """The smallest array type for ids below `n_tokens`: 2 bytes a token for any real vocabulary."""
    return np.uint16 if n_tokens <= 2**16 else np.int32


def _ids_path(path: Path) -> Path:
    return path.with_name(path.stem + ".ids.npy")


def _save_cached(path: Path, c: Corpus) -> None:
    from mgen.core.contracts.io import atomic_path

    meta = json.dumps({"tokens": c.tokens, "files": c.files, "skipped": c.skipped})
    try:
        # The ids go first, in a plain .npy that later runs memory-map; the .npz, written last,
        # marks the entry complete.
        with atomic_path(_ids_path(path)) as tmp, open(tmp, "wb") as f:
            np.save(f, c.ids)
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(
                f,
                offsets=c.offsets,
                piece_file=c.piece_file,
                meta=np.frombuffer(meta.encode(), dtype=np.uint8),
            )
    except MgenError:
        pass  # a read-only cache folder only costs the next run a re-parse


def _load_cached(path: Path) -> Corpus:
    with np.load(path) as z:
        meta = json.loads(z["meta"].tobytes().decode())
        # Memory-mapped: pages are read as pieces are used and shared between processes.
        ids = z["ids"] if "ids" in z.files else np.load(_ids_path(path), mmap_mode="r")
        return Corpus(
            meta["tokens"],
            ids,
            z["offsets"],
            z["piece_file"],
            meta["files"],
            [tuple(s) for s in meta["skipped"]],
            from_cache=True,
        )
