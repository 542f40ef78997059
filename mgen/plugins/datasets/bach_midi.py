"""bach-midi: MusicXML scores from music21's corpus written as MIDI into the cache on first use.

The writing runs in parallel and atomically, and resumes after an interruption: files already
written are kept, and an index lists the finished set.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from mgen.core.contracts.dataset import Dataset
from mgen.core.contracts.errors import DataError, MgenError
from mgen.core.contracts.io import atomic_path, write_json
from mgen.core.data.corpus import cache_dir
from mgen.plugins.datasets.corpus import CORPUS_TERMS

BACH_MIDI = "bach-midi"
#: music21 corpus folders whose MusicXML scores make bach-midi: the Bach chorales (410 of the
#: 504 files) plus other common-practice scores. Atonal (Schoenberg, Webern), medieval (trecento)
#: and test material (demos, theoryExercises) are left out so the style stays coherent; so are
#: Beethoven's quartets: they took ~13 of the 17 CPU-minutes that writing them all needed.
MIDI_COLLECTIONS = (
    "bach", "beach", "corelli", "cpebach", "handel", "haydn", "joplin", "monteverdi",
    "mozart", "schubert", "schumann_clara", "schumann_robert", "verdi", "weber",
)  # fmt: skip
_SCORE_PATTERNS = ("*.mxl", "*.xml", "*.musicxml")
_INDEX = "index.json"


class BachMidi(Dataset):
    """~500 Bach chorales and other scores from music21's corpus, written as MIDI on first use."""

    tokenizer = "midi-notes"
    format = "MIDI"
    source = "music21 corpus: Bach chorales + other MusicXML scores, written as MIDI"
    licence = CORPUS_TERMS

    def files(self, progress: bool = True) -> list[Path]:
        return bach_midi_files(progress)

    def ready(self) -> bool:
        return written_bach_midi() is not None

    def count(self) -> int:
        files = written_bach_midi()
        return len(files) if files is not None else len(bach_midi_sources())


def dataset_dir(name: str) -> Path:
    return cache_dir() / "datasets" / name


def bach_midi_sources() -> list[Path]:
    """The MusicXML scores bach-midi is written from (cheap: a glob of the installed corpus)."""
    from mgen.formats.m21 import corpus_files

    return corpus_files(MIDI_COLLECTIONS, _SCORE_PATTERNS)


def written_bach_midi() -> list[Path] | None:
    """bach-midi's files if a finished preparation from today's source list is in the cache."""
    from mgen.formats.m21 import corpus_root

    root = corpus_root()
    sources = [str(s.relative_to(root)) for s in bach_midi_sources()]
    return _index_files(dataset_dir(BACH_MIDI), sources)


def bach_midi_files(progress: bool = True) -> list[Path]:
    """bach-midi's MIDI files, written into the cache folder first if they are not there."""
    from mgen.formats.m21 import corpus_root

    files = written_bach_midi()
    if files is not None:
        return files
    dest, root = dataset_dir(BACH_MIDI), corpus_root()
    if progress:
        print(
            f"writing {BACH_MIDI} (first use): MIDI from music21's corpus into {dest}; this "
            "takes a few minutes",
            file=sys.stderr,
        )
    return build_midi_dataset(bach_midi_sources(), root, dest, progress=progress)


def build_midi_dataset(
    sources: list[Path], root: Path, dest: Path, workers: int | None = None, progress: bool = True
) -> list[Path]:
    """Write every score in `sources` (under `root`) as `dest/<relative path>.mid`.

    Files already there are kept (each was written atomically, so it is complete): an
    interrupted preparation resumes. Scores music21 cannot convert are listed in the index.
    """
    jobs = [(str(s), str(dest / s.relative_to(root).with_suffix(".mid"))) for s in sources]
    todo = [j for j in jobs if not Path(j[1]).exists()]
    failed = dict(_convert_all(todo, workers or os.cpu_count() or 1, progress)) if todo else {}
    files = [Path(out) for _, out in jobs if Path(out).exists()]
    if not files:
        raise DataError(f"could not write any MIDI file into {dest}")
    write_json(
        dest / _INDEX,
        {
            "corpus": str(root),
            "sources": [str(s.relative_to(root)) for s in sources],
            "files": [str(f.relative_to(dest)) for f in files],
            "failed": {str(Path(src).relative_to(root)): why for src, why in failed.items()},
        },
    )
    return files


def _convert_all(
    jobs: list[tuple[str, str]], workers: int, progress: bool
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
        futures = {pool.submit(_score_to_midi, src, out): src for src, out in jobs}
        for fut in as_completed(futures):
            if (why := fut.result()) is not None:
                failed.append((futures[fut], why))
            bar.update(1)
    bar.close()
    return failed


def _score_to_midi(src: str, out: str) -> str | None:
    """Parse one score with music21 and write it as MIDI; returns why it failed, or None."""
    import warnings

    from music21.midi.translate import streamToMidiFile

    from mgen.formats.m21 import parse

    try:
        score = parse(Path(src))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mf = streamToMidiFile(score)
        with atomic_path(Path(out)) as tmp:
            mf.open(str(tmp), "wb")
            try:
                mf.write()
            finally:
                mf.close()
    except MgenError as e:
        return str(e)
    except Exception as e:  # noqa: BLE001 - one unconvertible score must not stop the others
        return f"{type(e).__name__}: {e}"
    return None


def _index_files(dest: Path, sources: list[str]) -> list[Path] | None:
    """The files a finished preparation of `sources` listed; None if absent, stale or incomplete."""
    try:
        index = json.loads((dest / _INDEX).read_text(encoding="utf-8"))
        names, written_from = index["files"], index["sources"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if written_from != sources:  # another mgen version chose other scores
        return None
    files = [dest / n for n in names]
    return files if files and all(f.is_file() for f in files) else None
