"""What every section of the bench shares: its settings, a row of the table, figure
formatting and timing helpers."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from mgen.core.contracts.config import Config
from mgen.core.contracts.errors import ConfigError

Log = Callable[[str], None]
SECTIONS = (
    "machine", "peak", "preprocess", "train", "sample", "latency", "memory", "threads", "quality",
    "scale",
)  # fmt: skip
#: What `mgen bench` runs without --section: all but `quality` (it trains for ~40 minutes) and
#: `scale` (it writes and parses 20,000 MIDI files and checks every file of two corpora).
DEFAULT_SECTIONS = SECTIONS[:-2]


@dataclasses.dataclass
class BenchConfig(Config):
    quick: bool = False  # tiny sizes: checks that every section runs, measures nothing useful
    repeats: int = 5  # timed repeats behind each median
    device: str = "auto"
    shared_data: str = "../shared/data"  # the seeds' datasets, when present
    parse_files: int = 400  # most files of one dataset parsed for the first-run figure
    compare_steps: int = 150  # lstm2 steps of the fp32-vs-fastest validation-loss comparison
    batch_size: int = 64
    seq_len: int = 128
    quality_budget: float = 360.0  # CPU seconds of training per run of the quality section
    keep: str = ""  # a folder to keep the quality section's runs and samples in (default: none)

    def validate(self) -> None:
        for name in ("repeats", "parse_files", "compare_steps", "batch_size", "seq_len"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be >= 1")

    def effective(self) -> BenchConfig:
        """The sizes this run uses: `quick` shrinks them all."""
        if not self.quick:
            return self
        return dataclasses.replace(self, repeats=1, parse_files=min(self.parse_files, 4),
                                   compare_steps=1, batch_size=4, seq_len=16,
                                   quality_budget=2.0)  # fmt: skip


@dataclasses.dataclass
class Row:
    section: str
    item: str
    value: str
    note: str = ""


def quiet(msg: str) -> None:
    del msg


def fig(x: float, digits: int = 3) -> str:
    """`x` to `digits` significant digits, with thousands separators: 0.421, 42.1, 69,300.
    A value that is not zero never prints as "0", however small or slow."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    x = round(x, digits - 1 - math.floor(math.log10(abs(x))))
    exp = math.floor(math.log10(abs(x)))  # again: rounding may add a digit (999.7 -> 1,000)
    return f"{x:,.{max(0, digits - 1 - exp)}f}"


def ratio(x: float) -> str:
    return f"{fig(x)}x"


def percent(share: float) -> str:
    return f"{fig(100 * share)}%"


def median_time(fn: Callable[[], object], repeats: int, sync: Callable[[], None]) -> float:
    """Median seconds of `fn` after one untimed warm-up call."""
    fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


@contextlib.contextmanager
def cache_at(folder: Path) -> Iterator[None]:
    """Point mgen's cache (corpus caches, key memos) at `folder` for the block."""
    old = os.environ.get("MGEN_CACHE_DIR")
    os.environ["MGEN_CACHE_DIR"] = str(folder)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("MGEN_CACHE_DIR", None)
        else:
            os.environ["MGEN_CACHE_DIR"] = old
