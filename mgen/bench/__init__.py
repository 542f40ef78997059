"""`mgen bench` (or `python -m mgen bench`): how fast mgen runs here, against this machine's
limits.

One run prints one table of medians over repeats:

  machine     processor, cores, bf16 support, threads, load average, date
  peak        fp32 and bf16 matrix-multiply GFLOP/s: a large square and the models' shapes
              (bf16 once, at a small size, marked emulated where the processor lacks it)
  preprocess  files/s of a first parse (every core) and of a cached start, per dataset
  train       tokens/s, model FLOP/s and share of the measured peak for rnn, lstm, lstm2 and
              seed 002's configuration, in plain fp32 and in mgen's fastest setting; lstm2 also
              against plain PyTorch `nn.LSTM` (fp32 and bf16), with the validation loss of each
              after the same batches
  sample      lstm2 tokens/s: 1 and 64 samples with carried state, and the seeds' method
              (re-running a 50-token window for every token) as the baseline
  latency     per-token latency at batch 1 through the streaming API (p50, p95, p99) for each
              shipped model beside its model step alone, the time to a stream's first note,
              and 50 concurrent streams (p95, lost, stalled)
  memory      peak RSS of a training run on the largest dataset
  threads     a training step alone and beside a busy competing process, per OMP_WAIT_POLICY
              (PASSIVE, ACTIVE, unset)
  quality     (only with -s quality: ~40 minutes) lstm2 trained for the same time the 0.1 way
              and the new default way, whole-piece validation loss of each, and 32 samples
              judged against the corpus
  scale       (only with -s scale: a few minutes) a synthetic corpus of 20,000 small MIDI files:
              first parse, peak RSS, cached start, time to the first training step; piano-midi
              parsed by the old reader and by symusic; round trip and reader checks on every
              file of piano-midi and bach-midi

One module per part: machine (machine, peak), preprocess, training, sampling, latency, system
(memory, threads), quality, scale (with synthetic and midi_checks). Results and what they mean:
docs/performance.md; the scale figures: docs/scale.md.

`--quick` shrinks every size so the whole bench runs in seconds (a smoke test, not a figure).
"""

from __future__ import annotations

import os  # OMP_WAIT_POLICY=PASSIVE is set in mgen/__init__.py, before torch loads
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

from mgen.bench import latency, machine, preprocess, quality, sampling, scale, system, training
from mgen.bench.common import SECTIONS, BenchConfig, Log, Row, cache_at, quiet
from mgen.bench.system import policy_child
from mgen.core.data.prepare import TrainData
from mgen.core.training import device as devices
from mgen.core.training.signals import set_threads
from mgen.core.training.trainer import Trainer

__all__ = ["SECTIONS", "Bench", "BenchConfig", "Row", "policy_child", "table"]

#: The sections that run after torch's threads start, in order.
TIMED: dict[str, Callable[[Bench], None]] = {
    "peak": machine.peak,
    "train": training.train,
    "sample": sampling.sample,
    "latency": latency.latency,
    "memory": system.memory,
    "threads": system.threads,
}


class Bench:
    """Runs the sections in order and collects the rows of the one table. The sections (module
    functions taking the Bench) read its settings and devices and add rows through `add`."""

    def __init__(self, cfg: BenchConfig, log: Log = quiet):
        self.cfg, self.size, self.log = cfg, cfg.effective(), log
        self.rows: list[Row] = []
        self.device = devices.resolve_device(cfg.device)
        self.fastest = devices.resolve_precision("auto", self.device)
        # bf16 products in hardware: always on a GPU; on a CPU only with AVX512-BF16 or AMX.
        self.native_bf16 = self.device.type != "cpu" or devices.cpu_has_native_bf16()
        self.peaks: dict[str, float] = {}  # best GFLOP/s per dtype, from the peak section
        self.datasets: list[preprocess.BenchData] = []
        self.data: dict[str, TrainData] = {}  # training data, prepared before torch threads
        self.lstm2: Trainer | None = None  # trained in the train section, sampled from after
        self.user_env = dict(os.environ)  # before the bench points the cache elsewhere
        self.tmp = self.cache = Path()  # set by `run`
        self.quality_budget = self.size.quality_budget

    def add(self, section: str, item: str, value: str, note: str = "") -> None:
        self.rows.append(Row(section, item, value, note))
        self.log(f"{section:<10} {item:<58} {value:>16}  {note}")

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def run(self, sections: tuple[str, ...] = SECTIONS) -> list[Row]:
        with tempfile.TemporaryDirectory(prefix="mgen-bench-") as tmp:
            self.tmp = Path(tmp)
            self.cache = self.tmp / "cache"
            machine.describe(self)
            # Before any torch work: the parsing processes fork from this one.
            if "preprocess" in sections or "memory" in sections:
                preprocess.preprocess(self, measure="preprocess" in sections)
            if "scale" in sections:  # it parses in forked workers too
                scale.scale(self)
            if "train" in sections or "sample" in sections:
                with cache_at(self.cache):
                    training.prepare(self)
            set_threads()
            self.add("machine", "torch threads (intra-op / inter-op)",
                     f"{torch.get_num_threads()} / {torch.get_num_interop_threads()}")  # fmt: skip
            for name, section in TIMED.items():
                if name in sections:
                    with cache_at(self.cache):
                        section(self)
            if "quality" in sections:  # the user's own corpus cache: Essen parses once
                quality.quality(self)
            self.add("machine", "load average (1 min) at the end", machine.load1())
        return self.rows


def table(rows: list[Row]) -> str:
    """The rows as one Markdown table."""
    ordered = sorted(rows, key=lambda r: SECTIONS.index(r.section))  # stable: run order within
    lines = ["| section | measurement | value | notes |", "|---|---|---|---|"]
    lines += [f"| {r.section} | {r.item} | {r.value} | {r.note} |" for r in ordered]
    return "\n".join(lines)
