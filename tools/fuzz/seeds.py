"""Real files to mutate: a few of the tokenizer's default dataset and of folders given."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mgen.core.contracts import registry
from mgen.core.contracts.errors import MgenError
from mgen.core.contracts.tokenizer import Tokenizer
from mgen.core.data.corpus import find_files

#: Real files larger than this are not mutated: a slow reader (music21) would spend the run on
#: them. Up to here a file still holds several tunes or voices.
MAX_SEED_BYTES = 8192


def dataset_files(tok: Tokenizer) -> list[Path]:
    """The files of the tokenizer's default dataset; none when it has no default dataset, the
    dataset is not installed or not ready (fuzzing never starts a long preparation)."""
    if not tok.recipe.dataset:
        return []
    try:
        dataset = registry.load("dataset", tok.recipe.dataset)()
        return dataset.files(progress=False) if dataset.ready() else []
    except MgenError:
        return []


def real_files(tok: Tokenizer, extra: Sequence[Path] = (), per_source: int = 4) -> list[Path]:
    """A few small real files in the tokenizer's format: from its default dataset, then
    from each folder in `extra` (files matching its file patterns)."""
    sources = [dataset_files(tok)]
    sources += [find_files([Path(folder)], tok.format.patterns) for folder in extra]
    found: list[Path] = []
    for files in sources:
        found += [f for f in pick(files, per_source) if f not in found]
    return found


def pick(files: Sequence[Path], n: int, max_bytes: int = MAX_SEED_BYTES) -> list[Path]:
    """`n` files spread by size from the smallest to the largest under `max_bytes` (small
    ones mutate and parse quickly; spread, so they are not all alike), the smallest first."""
    files = sorted((f for f in files if f.is_file()), key=lambda f: (f.stat().st_size, f))
    small = [f for f in files if f.stat().st_size <= max_bytes] or files[:n]
    if n < 1 or len(small) <= n:
        return small[: max(n, 0)]
    step = (len(small) - 1) / max(1, n - 1)
    return [small[round(i * step)] for i in range(n)]


def seed_inputs(tok: Tokenizer, extra: Sequence[Path] = ()) -> list[bytes]:
    """The contents of `real_files` (possibly none)."""
    return [f.read_bytes() for f in real_files(tok, extra)]
