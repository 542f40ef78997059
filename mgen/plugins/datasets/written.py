"""Datasets of MIDI files written from music21's corpus into mgen's cache on first use.

`WrittenMidi` is the dataset: a name, the scores it is made from (`sources`) and how one score
becomes one file (`converter`: a module-level function, run in worker processes). The writing
runs in parallel and atomically, and resumes after an interruption: files already written are
kept, and an index lists the finished set. bach-midi (music21's own MIDI writer) and the
multi-track datasets (bach-satb, string-quartets, renaissance-voices: a track per voice, written
through mgen's Score) share it.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import ClassVar

from mgen.core.contracts.dataset import Dataset
from mgen.core.contracts.errors import DataError
from mgen.core.contracts.io import write_json
from mgen.core.data.corpus import cache_dir
from mgen.plugins.datasets.corpus import CORPUS_TERMS

#: One score -> one MIDI file: (source path, output path) -> why it failed, or None.
Converter = Callable[[str, str], "str | None"]
_INDEX = "index.json"


def dataset_dir(name: str) -> Path:
    return cache_dir() / "datasets" / name


class WrittenMidi(Dataset):
    """MIDI files written from music21's corpus into `<cache>/datasets/<name>/` on first use."""

    name: ClassVar[str] = ""
    format = "MIDI"
    licence = CORPUS_TERMS
    #: Stored in the index: a change of how files are written makes an older cache stale.
    version: ClassVar[str | None] = None
    #: What the first-use message says it takes.
    takes: ClassVar[str] = "a few minutes"

    def sources(self) -> list[Path]:
        """The scores the files are written from (cheap: a glob of the installed corpus)."""
        raise NotImplementedError

    def converter(self) -> Converter:
        """The function that writes one score (picklable: a module-level function or a partial)."""
        raise NotImplementedError

    def written(self) -> list[Path] | None:
        """The files, if a finished preparation from today's source list is in the cache."""
        from mgen.formats.m21 import corpus_root

        root = corpus_root()
        sources = [str(s.relative_to(root)) for s in self.sources()]
        return _index_files(dataset_dir(self.name), sources, self.version)

    def files(self, progress: bool = True) -> list[Path]:
        from mgen.formats.m21 import corpus_root

        files = self.written()
        if files is not None:
            return files
        dest, root = dataset_dir(self.name), corpus_root()
        if progress:
            print(
                f"writing {self.name} (first use): MIDI from music21's corpus into {dest}; "
                f"this takes {self.takes}",
                file=sys.stderr,
            )
        return write_dataset(
            self.sources(), root, dest, self.converter(), progress=progress, version=self.version
        )

    def ready(self) -> bool:
        return self.written() is not None

    def count(self) -> int:
        files = self.written()
        return len(files) if files is not None else len(self.sources())


def write_dataset(
    sources: list[Path],
    root: Path,
    dest: Path,
    convert: Converter,
    workers: int | None = None,
    progress: bool = True,
    version: str | None = None,
) -> list[Path]:
    """Write every score in `sources` (under `root`) as `dest/<relative path>.mid` with
    `convert`.

    Files already there are kept (each was written atomically, so it is complete): an
    interrupted preparation resumes. Scores that cannot be converted are listed in the index.
    """
    jobs = [(str(s), str(dest / s.relative_to(root).with_suffix(".mid"))) for s in sources]
    todo = [j for j in jobs if not Path(j[1]).exists()]
    workers = workers or os.cpu_count() or 1
    failed = dict(_convert_all(todo, convert, workers, progress)) if todo else {}
    files = [Path(out) for _, out in jobs if Path(out).exists()]
    if not files:
        raise DataError(f"could not write any MIDI file into {dest}")
    index = {
        "corpus": str(root),
        "sources": [str(s.relative_to(root)) for s in sources],
        "files": [str(f.relative_to(dest)) for f in files],
        "failed": {str(Path(src).relative_to(root)): why for src, why in failed.items()},
    }
    if version is not None:
        index["version"] = version
    write_json(dest / _INDEX, index)
    return files


def _convert_all(
    jobs: list[tuple[str, str]], convert: Converter, workers: int, progress: bool
) -> list[tuple[str, str]]:
    """Convert in parallel, largest scores first for balance; returns (source, reason) failures."""
    import music21.midi.translate  # noqa: F401 - imported once here, inherited by forked workers
    from tqdm import tqdm

    jobs = sorted(jobs, key=lambda j: -Path(j[0]).stat().st_size)
    bar = tqdm(
        total=len(jobs),
        desc="writing MIDI",
        unit="score",
        disable=None if progress else True,
        leave=False,
    )
    failed = []
    # fork shares the imported music21 with the workers; no torch thread pool exists yet here.
    ctx = mp.get_context("fork" if sys.platform == "linux" else "spawn")
    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=ctx) as pool:
        futures = {pool.submit(convert, src, out): src for src, out in jobs}
        for fut in as_completed(futures):
            if (why := fut.result()) is not None:
                failed.append((futures[fut], why))
            bar.update(1)
    bar.close()
    return failed


def _index_files(dest: Path, sources: list[str], version: str | None) -> list[Path] | None:
    """The files a finished preparation of `sources` listed; None if absent, stale or incomplete."""
    try:
        index = json.loads((dest / _INDEX).read_text(encoding="utf-8"))
        names, written_from = index["files"], index["sources"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if written_from != sources or index.get("version") != version:
        return None  # another mgen version chose other scores, or writes them otherwise
    files = [dest / n for n in names]
    return files if files and all(f.is_file() for f in files) else None
