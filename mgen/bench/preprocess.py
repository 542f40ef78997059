"""The preprocess section: files/s of a first parse (every core) and of a cached start, for
every dataset plugin and every folder of `--shared-data`."""

from __future__ import annotations

import dataclasses
import math
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from mgen.bench.common import cache_at, fig, median_time, percent, quiet, ratio
from mgen.core.contracts import registry
from mgen.core.contracts.errors import MgenError
from mgen.core.data.corpus import PARALLEL_MIN_FILES, find_files, load_corpus

if TYPE_CHECKING:
    from mgen.bench import Bench


@dataclasses.dataclass
class BenchData:
    """One dataset the bench reads."""

    label: str  # e.g. "folk-abc (abc-char)"
    tokenizer: str
    files: list[Path]
    subset: list[Path]  # the files parsed for the first-run figure
    plugin: str = ""  # the dataset plugin's name; "" for a folder of --shared-data
    tokens: int = 0  # tokens in the subset, once parsed

    def estimated_tokens(self) -> float:
        """Tokens of the whole dataset, from the subset (bytes where it was not parsed)."""
        per_file = self.tokens or total_bytes(self.subset)
        return per_file / max(1, len(self.subset)) * len(self.files)


def preprocess(b: Bench, measure: bool = True) -> None:
    """Find the datasets (into `b.datasets`) and, if `measure`, time parsing each."""
    b.datasets = plugin_datasets(b) + shared_datasets(b)
    if measure:
        for d in b.datasets:
            time_parse(b, d)


def entry(b: Bench, label: str, tokenizer: str, files: list[Path], plugin: str = "") -> BenchData:
    """A dataset with its subset: at most `parse_files` files, evenly strided."""
    cap = b.size.parse_files
    subset = files if len(files) <= cap else files[:: math.ceil(len(files) / cap)]
    return BenchData(label, tokenizer, files, subset, plugin)


def plugin_datasets(b: Bench) -> list[BenchData]:
    """Every installed dataset plugin that is ready (written); the others as skipped rows."""
    found = []
    for name in registry.names("dataset"):
        label = name
        try:
            ds = registry.load("dataset", name)()
            label = f"{name} ({ds.tokenizer})"
            if not ds.ready():
                b.add("preprocess", label, "skipped",
                      f"not written yet: run `mgen data prepare {name}`")  # fmt: skip
                continue
            found.append(entry(b, label, ds.tokenizer, ds.files(progress=False), name))
        except MgenError as e:
            b.add("preprocess", label, "skipped", str(e))
    return found


def shared_datasets(b: Bench) -> list[BenchData]:
    """Each folder of `--shared-data`, read by the tokenizer that matches the most files."""
    shared = Path(b.cfg.shared_data)
    if not shared.is_dir():
        b.add("preprocess", f"datasets in {shared}", "absent")
        return []
    patterns = {
        n: registry.load("tokenizer", n).format.patterns for n in registry.names("tokenizer")
    }
    found = []
    for folder in sorted(p for p in shared.iterdir() if p.is_dir()):
        best = max(((find_files([folder], pats), n) for n, pats in patterns.items()),
                   key=lambda fn: len(fn[0]), default=([], ""))  # fmt: skip
        if best[0]:
            found.append(entry(b, f"{folder.name} ({best[1]})", best[1], best[0]))
    return found


def time_parse(b: Bench, d: BenchData) -> None:
    """A first parse of the subset (in a fresh cache), then the median cached start."""
    tok = registry.load("tokenizer", d.tokenizer)()
    with cache_at(b.tmp / "parse" / d.label.split()[0]):
        cpu0, t0 = cpu_seconds(), time.perf_counter()
        corpus = load_corpus(tok, d.subset, progress=False, warn=quiet)
        first = time.perf_counter() - t0
        busy = (cpu_seconds() - cpu0) / first / (os.cpu_count() or 1)
        cached = median_time(lambda: load_corpus(tok, d.subset, progress=False),
                             max(3, b.size.repeats), lambda: None)  # fmt: skip
    n, total = len(d.subset), len(d.files)
    which = f"{n} of {total} files" if n < total else f"all {total} files"
    d.tokens = int(corpus.offsets[-1])
    procs = (os.cpu_count() or 1) if n >= PARALLEL_MIN_FILES else 1
    b.add("preprocess", f"{d.label} first parse", f"{fig(n / first)} files/s",
          f"{which}, {d.tokens:,} tokens ({corpus.ids.dtype}), {fig(first)} s, "
          f"{procs} process{'es' if procs > 1 else ''}, cores busy {percent(busy)}")  # fmt: skip
    b.add("preprocess", f"{d.label} cached start", f"{fig(n / cached)} files/s",
          f"{fig(cached * 1000)} ms, {ratio(first / cached)} the first parse")  # fmt: skip


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def total_bytes(files: list[Path]) -> int:
    return sum(f.stat().st_size for f in files) or 1
