"""`mgen bench` / `python -m mgen.bench`: how fast mgen runs here, against this machine's limits.

One run prints one table of medians over repeats:

  machine     processor, cores, bf16 support, threads, load average, date
  peak        fp32 and bf16 matrix-multiply GFLOP/s: a large square and the models' shapes
  preprocess  files/s of a first parse (every core) and of a cached start, per dataset
  train       tokens/s, model FLOP/s and share of the measured peak for rnn, lstm, lstm2 and
              seed 002's configuration, in plain fp32 and in mgen's fastest setting; lstm2 also
              against plain PyTorch `nn.LSTM` (fp32 and bf16), with the validation loss of each
              after the same batches
  sample      lstm2 tokens/s: 1 and 64 samples with carried state, and the seeds' method
              (re-running a 50-token window for every token) as the baseline
  memory      peak RSS of a training run on the largest default dataset
  threads     a training step alone and beside a busy competing process, per OMP_WAIT_POLICY
              (PASSIVE, ACTIVE, unset)

Results and what they mean: docs/performance.md.

`--quick` shrinks every size so the whole bench runs in seconds (a smoke test, not a figure).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import math
import os  # OMP_WAIT_POLICY=PASSIVE is set in mgen/__init__.py, before torch loads
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from torch import nn

from mgen.core import registry
from mgen.core.config import Config
from mgen.core.data import PARALLEL_MIN_FILES, find_files, load_corpus
from mgen.core.device import resolve_device, resolve_precision
from mgen.core.errors import ConfigError, MgenError
from mgen.core.sample import generate
from mgen.core.tokenizer import SPECIALS, Tokenizer, Vocab
from mgen.core.train import TrainConfig, Trainer, set_threads
from mgen.plugins.tokenizers.abc_char import AbcCharTokenizer

Log = Callable[[str], None]
SECTIONS = ("machine", "peak", "preprocess", "train", "sample", "memory", "threads")
SEED002 = {"embed_dim": 256, "hidden_size": 1024}  # one LSTM layer, 83 symbols
SEED002_SYMBOLS = 83
WINDOW = 50  # the seeds' generation window


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

    def validate(self) -> None:
        for name in ("repeats", "parse_files", "compare_steps", "batch_size", "seq_len"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be >= 1")

    def effective(self) -> BenchConfig:
        """The sizes this run uses: `quick` shrinks them all."""
        if not self.quick:
            return self
        return dataclasses.replace(self, repeats=1, parse_files=min(self.parse_files, 4),
                                   compare_steps=1, batch_size=4, seq_len=16)  # fmt: skip


@dataclasses.dataclass
class Row:
    section: str
    item: str
    value: str
    note: str = ""


def _quiet(msg: str) -> None:
    del msg


def _median_time(fn: Callable[[], object], repeats: int, sync: Callable[[], None]) -> float:
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
def _cache_at(folder: Path) -> Iterator[None]:
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


def cpu_flags() -> set[str]:
    """The processor's feature flags (Linux); empty elsewhere."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def cpu_name() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def load1() -> str:
    with contextlib.suppress(OSError, AttributeError):
        return f"{os.getloadavg()[0]:.2f}"
    return "n/a"


def flops_per_token(model: nn.Module) -> float:
    """Forward FLOPs per token of a recurrent LM (recurrent layers + output layer; 2 per MAC).
    Training costs three times this: the backward pass computes two products per forward one."""
    rnn = model.rnn
    gates = {nn.LSTM: 4, nn.GRU: 3, nn.RNN: 1}[type(rnn)]
    flops, width = 0.0, rnn.input_size
    for _ in range(rnn.num_layers):
        flops += 2 * gates * rnn.hidden_size * (width + rnn.hidden_size)
        width = rnn.hidden_size
    return flops + 2 * model.head.in_features * model.head.out_features


class PlainLSTM2(nn.Module):
    """lstm2 as plain PyTorch: embedding, nn.LSTM(2 layers, dropout 0.5), nn.Dropout, linear.
    The attribute names match mgen's model, so both start from the same weights."""

    def __init__(self, vocab: int, embed: int = 128, hidden: int = 256, dropout: float = 0.5):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.rnn = nn.LSTM(embed, hidden, num_layers=2, batch_first=True, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids: torch.Tensor, state=None):
        y, state = self.rnn(self.embed(ids), state)
        return self.head(self.drop(y)), state


class Seed002Tokenizer(AbcCharTokenizer):
    """abc-char with seed 002's vocabulary size: its most frequent characters plus the four
    special tokens make 83 symbols; rarer characters become <unk>."""

    def fit(self, counts: Counter[str]) -> None:
        kept = [t for t, _ in counts.most_common(SEED002_SYMBOLS - len(SPECIALS))]
        self.vocab = Vocab(sorted(kept))


@dataclasses.dataclass
class Dataset:
    label: str  # e.g. "folk-abc (abc-char)"
    tokenizer: str
    files: list[Path]
    subset: list[Path]  # the files parsed for the first-run figure
    tokens: int = 0  # tokens in the subset, once parsed

    def estimated_tokens(self) -> float:
        """Tokens of the whole dataset, from the subset (bytes where it was not parsed)."""
        per_file = self.tokens or _total_bytes(self.subset)
        return per_file / max(1, len(self.subset)) * len(self.files)


class Bench:
    """Runs the sections in order and collects the rows of the one table."""

    def __init__(self, cfg: BenchConfig, log: Log = _quiet):
        self.cfg, self.size, self.log = cfg, cfg.effective(), log
        self.rows: list[Row] = []
        self.device = resolve_device(cfg.device)
        self.fastest = resolve_precision("auto", self.device)
        self.peaks: dict[str, float] = {}
        self.datasets: list[Dataset] = []
        self.user_env = dict(os.environ)  # before the bench points the cache elsewhere

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
            self.machine()
            # Before any torch work: the parsing processes fork from this one.
            if "preprocess" in sections or "memory" in sections:
                self.preprocess(measure="preprocess" in sections)
            with _cache_at(self.cache):
                self._load_training_corpora()
            set_threads()
            self.add("machine", "torch threads (intra-op / inter-op)",
                     f"{torch.get_num_threads()} / {torch.get_num_interop_threads()}")  # fmt: skip
            for name in ("peak", "train", "sample", "memory", "threads"):
                if name in sections:
                    with _cache_at(self.cache):
                        getattr(self, name)()
            self.add("machine", "load average (1 min) at the end", load1())
        return self.rows

    # -- machine ---------------------------------------------------------------------------
    def machine(self) -> None:
        flags = cpu_flags()
        bf16 = [f for f in ("avx512_bf16", "amx_bf16", "amx_tile") if f in flags]
        now = datetime.datetime.now(datetime.timezone.utc)
        self.add("machine", "date (UTC)", now.strftime("%Y-%m-%d %H:%M"))
        self.add("machine", "processor", cpu_name(), f"{os.cpu_count()} logical cores")
        if self.device.type == "cuda":
            self.add("machine", "GPU", torch.cuda.get_device_name(self.device))
        self.add("machine", "native bf16 instructions", ", ".join(bf16) or "none")
        self.add("machine", "torch", torch.__version__, f"device {self.device}")
        self.add("machine", "OMP_WAIT_POLICY", os.environ.get("OMP_WAIT_POLICY", "(unset)"))
        self.add("machine", "mgen's fastest setting", self.fastest,
                 "--precision auto on this device")  # fmt: skip
        self.add("machine", "load average (1 min) at the start", load1())
        if self.cfg.quick:
            self.add("machine", "mode", "--quick", "tiny sizes: a smoke test, not a measurement")

    # -- matrix-multiply peak --------------------------------------------------------------
    def peak(self) -> None:
        b, t = self.cfg.batch_size, self.cfg.seq_len
        square = 256 if self.cfg.quick else 2048 if self.device.type == "cpu" else 8192
        shapes = [
            (f"square {square}", square, square, square),
            (f"lstm2 input projection [{b * t}x128]x[128x1024]", b * t, 128, 1024),
            (f"lstm2 recurrent step [{b}x256]x[256x1024]", b, 256, 1024),
            (f"seed-002 recurrent step [{b}x1024]x[1024x4096]", b, 1024, 4096),
            (f"output layer [{b * t}x256]x[256x100]", b * t, 256, 100),
        ]
        if self.cfg.quick:
            shapes = [(name, min(m, 64), min(k, 64), min(n, 64)) for name, m, k, n in shapes]
        # torch.mm runs fp32 on MKL and bf16 on oneDNN; the fused RNNs run both on oneDNN, and
        # MKL takes a generic path on non-Intel processors: time fp32 on oneDNN too.
        onednn = self.device.type == "cpu" and torch.backends.mkldnn.is_available()
        kinds = [("fp32", torch.float32, "torch.mm"), ("bf16", torch.bfloat16, "torch.mm")]
        if onednn:
            kinds.insert(1, ("fp32", torch.float32, "oneDNN"))
        for label, dtype, how in kinds:
            for name, m, k, n in shapes:
                fn = self._matmul(m, k, n, dtype, how == "oneDNN")
                reps = self.size.repeats if m * k * n < 2**30 else max(1, self.size.repeats // 2)
                rate = 2 * m * k * n / _median_time(fn, reps, self.sync) / 1e9
                self.peaks[label] = max(self.peaks.get(label, 0.0), rate)
                self.add("peak", f"{label} matmul ({how}) {name}", f"{rate:,.0f} GFLOP/s")
        for label in ("fp32", "bf16"):
            self.add("peak", f"{label} measured peak (best above)",
                     f"{self.peaks[label]:,.0f} GFLOP/s")  # fmt: skip

    def _matmul(self, m: int, k: int, n: int, dtype: torch.dtype, onednn: bool):
        """A call computing [m,k] x [k,n]; `onednn`: through oneDNN's fp32 linear instead."""
        a = torch.randn(m, k, device=self.device).to(dtype)
        if not onednn:
            w = torch.randn(k, n, device=self.device).to(dtype)
            return lambda: a @ w
        import warnings

        with warnings.catch_warnings():  # its module still uses torch.jit, now deprecated
            warnings.simplefilter("ignore", DeprecationWarning)
            from torch.utils.mkldnn import MkldnnLinear

            linear = MkldnnLinear(nn.Linear(k, n, bias=False), torch.float32)
        x = a.to_mkldnn()  # oneDNN's own layout, as inside its fused RNN
        return lambda: linear(x)

    # -- preprocessing ---------------------------------------------------------------------
    def _dataset_list(self) -> list[tuple[str, str, list[Path]]]:
        """(label, tokenizer, files): each tokenizer's default dataset, then ../shared/data."""
        from mgen.plugins.datasets import CATALOG

        found = []
        for name in registry.names("tokenizer"):
            entry = next((d for d in CATALOG.values() if d.tokenizer == name), None)
            label = f"{entry.name if entry else 'default'} ({name})"
            if entry is not None and not entry.materialized():
                self.add("preprocess", label, "skipped",
                         f"not written yet: run `mgen data prepare {entry.name}`")  # fmt: skip
                continue
            try:
                found.append((label, name, registry.load("tokenizer", name)().default_files()))
            except MgenError as e:
                self.add("preprocess", label, "skipped", str(e))
        shared = Path(self.cfg.shared_data)
        if not shared.is_dir():
            self.add("preprocess", f"datasets in {shared}", "absent")
            return found
        for folder in sorted(p for p in shared.iterdir() if p.is_dir()):
            best = max(
                ((len(find_files([folder], registry.load("tokenizer", n).file_patterns)), n)
                 for n in registry.names("tokenizer")),
                default=(0, ""),
            )  # fmt: skip
            if best[0]:
                files = find_files([folder], registry.load("tokenizer", best[1]).file_patterns)
                found.append((f"{folder.name} ({best[1]})", best[1], files))
        return found

    def preprocess(self, measure: bool = True) -> None:
        for label, name, files in self._dataset_list():
            cap = self.size.parse_files
            subset = files if len(files) <= cap else files[:: math.ceil(len(files) / cap)]
            tok = registry.load("tokenizer", name)()
            self.datasets.append(dataset := Dataset(label, name, files, subset))
            if not measure:
                continue
            with _cache_at(self.tmp / "parse" / label.split()[0]):
                cpu0, t0 = _cpu_seconds(), time.perf_counter()
                corpus = load_corpus(tok, subset, progress=False, warn=_quiet)
                first = time.perf_counter() - t0
                busy = (_cpu_seconds() - cpu0) / first / (os.cpu_count() or 1)
                cached = _median_time(
                    lambda tok=tok, subset=subset: load_corpus(tok, subset, progress=False),
                    max(3, self.size.repeats), lambda: None)  # fmt: skip
            which = f"{len(subset)} of {len(files)} files" if len(subset) < len(files) else (
                f"all {len(files)} files")  # fmt: skip
            tokens = dataset.tokens = int(corpus.offsets[-1])
            procs = (os.cpu_count() or 1) if len(subset) >= PARALLEL_MIN_FILES else 1
            self.add("preprocess", f"{label} first parse", f"{len(subset) / first:,.1f} files/s",
                     f"{which}, {tokens:,} tokens ({corpus.ids.dtype}), {first:.2f} s, "
                     f"{procs} processes, cores busy {busy:.0%}")  # fmt: skip
            self.add("preprocess", f"{label} cached start", f"{len(subset) / cached:,.0f} files/s",
                     f"{cached * 1000:.1f} ms, {first / cached:,.0f}x the first parse")  # fmt: skip

    # -- training --------------------------------------------------------------------------
    def _trainer(self, model: str, precision: str, tok: Tokenizer | None = None,
                 options: dict | None = None) -> Trainer:  # fmt: skip
        cfg = TrainConfig(tokenizer="abc-char", model=model, precision=precision, seed=0,
                          device=str(self.device), batch_size=self.size.batch_size,
                          seq_len=self.size.seq_len, max_val_batches=50,
                          model_options=options or {})  # fmt: skip
        if self.cfg.quick:  # a slice of the default dataset
            cfg.data = [str(f) for f in self.datasets_for("abc-char")]
        return Trainer(cfg, self.tmp / "runs" / model, log=_quiet, progress=False, tokenizer=tok)

    def datasets_for(self, tokenizer: str) -> list[Path]:
        subset = next((d.subset for d in self.datasets if d.tokenizer == tokenizer), [])
        return subset[:8]

    def _load_training_corpora(self) -> None:
        """Parse (and cache) the training corpora before torch's thread pool starts."""
        if self.cfg.quick and not self.datasets:
            files = registry.load("tokenizer", "abc-char")().default_files()
            self.datasets = [Dataset("folk-abc (abc-char)", "abc-char", files, files[:8])]
        self._trainer("lstm2", "fp32")
        self._trainer("lstm", "fp32", Seed002Tokenizer())

    def train(self) -> None:
        for model, options, label in (("rnn", {}, "rnn"), ("lstm", {}, "lstm"),
                                      ("lstm", SEED002, "seed-002")):  # fmt: skip
            tok = Seed002Tokenizer() if options else None
            runs = {p: self._trainer(model, p, tok, options) for p in self._precisions()}
            times, _ = self._interleaved(runs, self.size.repeats)
            self._rate_rows(label, runs, times)
        self._compare_lstm2()

    def _precisions(self) -> list[str]:
        return ["fp32"] if self.fastest == "fp32" else ["fp32", self.fastest]

    def _interleaved(self, runs: dict[str, Trainer], steps: int, warmup: int = 1):
        """Step every trainer on the same batches in turn (so load changes hit all alike).
        Returns each one's step times and the batch-building times."""
        first = next(iter(runs.values()))
        batches = first.train_windows.epoch_batches(0, 0)
        times: dict[str, list[float]] = {k: [] for k in runs}
        data: list[float] = []
        for i in range(warmup + steps):
            t0 = time.perf_counter()
            try:
                _, (x, y) = next(batches)
            except StopIteration:
                batches = first.train_windows.epoch_batches(0, i)
                _, (x, y) = next(batches)
            data.append(time.perf_counter() - t0)
            for key, tr in runs.items():
                t0 = time.perf_counter()
                tr.train_step(x, y)
                self.sync()
                tr.state.step += 1
                if i >= warmup:
                    times[key].append(time.perf_counter() - t0)
        return times, data[warmup:]

    def _rate_rows(self, label: str, runs: dict[str, Trainer], times: dict[str, list[float]],
                   base: str = "fp32") -> None:  # fmt: skip
        tokens = self.size.batch_size * self.size.seq_len
        for key, tr in runs.items():
            step = statistics.median(times[key])
            flops = 3 * flops_per_token(tr.model) * tokens / step
            dtype = "bf16" if tr.precision in ("bf16", "fp16") else "fp32"
            peak = self.peaks.get(dtype, 0.0)
            share = f", {flops / 1e9 / peak:.0%} of the {dtype} peak" if peak else ""
            if flops / 1e9 > peak > 0:  # only when the machine got quieter after `peak` ran
                share += " (above it: the load changed during the run)"
            ratio = statistics.median(times[base]) / step if key != base else 1.0
            self.add("train", f"{label} {key}", f"{tokens / step:,.0f} tok/s",
                     f"{flops / 1e9:,.1f} GFLOP/s{share}; {ratio:.2f}x {base}")  # fmt: skip

    def _plain(self, precision: str) -> Trainer:
        """A trainer whose model is `PlainLSTM2`, starting from mgen lstm2's first weights."""
        tr = self._trainer("lstm2", precision)
        model = PlainLSTM2(len(tr.tok.vocab)).to(self.device)
        model.load_state_dict(tr.model.state_dict())
        tr.model = tr.net = model
        tr.opt = torch.optim.Adam(model.parameters(), lr=tr.cfg.lr)
        return tr

    def _compare_lstm2(self) -> None:
        """Plain PyTorch vs mgen, in fp32 and in mgen's fastest precision: same batches, same
        first weights, taking turns step by step."""
        runs = {"plain-fp32": self._plain("fp32")}
        if self.fastest != "fp32":
            runs[f"plain-{self.fastest}"] = self._plain(self.fastest)
        runs["fp32"] = self._trainer("lstm2", "fp32")
        if self.fastest != "fp32":
            runs[self.fastest] = self._trainer("lstm2", self.fastest)
        steps = max(self.size.compare_steps, self.size.repeats)
        times, data = self._interleaved(runs, steps, warmup=2)
        self._rate_rows("lstm2", runs, times, base="plain-fp32")
        self.lstm2 = runs[self.fastest]  # sampled from below
        step = statistics.median(times[self.fastest])
        share = statistics.median(data) / (statistics.median(data) + step)
        self.add("train", "lstm2 batch building (numpy windows)",
                 f"{statistics.median(data) * 1000:.2f} ms", f"{share:.2%} of a step")  # fmt: skip
        tokens = steps * self.size.batch_size * self.size.seq_len
        losses = {key: _fp32_val_loss(tr) for key, tr in runs.items()}
        for key, loss in losses.items():
            delta = loss - losses["plain-fp32"]
            vs = f"; {delta:+.4f} ({delta / losses['plain-fp32']:+.2%}) vs plain-fp32" if (
                key != "plain-fp32") else ""  # fmt: skip
            self.add("train", f"lstm2 {key} validation loss", f"{loss:.4f} nats",
                     f"after {tokens:,} training tokens ({steps} steps), in fp32{vs}")  # fmt: skip

    # -- sampling --------------------------------------------------------------------------
    def sample(self) -> None:
        """lstm2 tokens/s, the three ways taking turns (so a change of load hits all alike)."""
        tr = getattr(self, "lstm2", None) or self._trainer("lstm2", self.fastest)
        model = tr.model.eval()
        vocab = _never_ending(tr.tok.vocab)
        dec_cls = registry.load("decoder", "temperature")
        decoder = dec_cls(dec_cls.Options())
        steps, wsteps = (16, 8) if self.cfg.quick else (400, 100)

        def carried(k: int) -> Callable[[], object]:
            return lambda: generate(model, [vocab.start_id], steps=steps, num_samples=k,
                                    decoder=decoder, vocab=vocab, seed=0, device=self.device)  # fmt: skip

        def window() -> object:
            return window_generate(model, steps=wsteps, decoder=decoder, device=self.device)

        ways = {"one": (carried(1), steps), "many": (carried(64), 64 * steps),
                "window": (window, wsteps)}  # fmt: skip
        rates = {key: [] for key in ways}
        for fn, _ in ways.values():
            fn()  # warm-up
        for _ in range(max(3, self.size.repeats)):
            for key, (fn, tokens) in ways.items():
                t0 = time.perf_counter()
                fn()
                self.sync()
                rates[key].append(tokens / (time.perf_counter() - t0))
        one, many, base = (statistics.median(rates[k]) for k in ("one", "many", "window"))
        note = f"{steps} tokens each, temperature decoder"
        self.add("sample", "lstm2 batch 1, carried state", f"{one:,.0f} tok/s",
                 f"{note}; {one / base:.1f}x the baseline")  # fmt: skip
        self.add("sample", "lstm2 64 concurrent samples, carried state", f"{many:,.0f} tok/s",
                 f"{note}; {many / base:.1f}x the baseline")  # fmt: skip
        self.add("sample", f"lstm2 seeds' method: {WINDOW}-token window re-run per token",
                 f"{base:,.0f} tok/s", f"the baseline: batch 1, {wsteps} tokens")  # fmt: skip

    # -- memory ----------------------------------------------------------------------------
    def memory(self) -> None:
        """Peak RSS of `mgen train` in a fresh process on the largest default dataset."""
        defaults = [d for d in self.datasets if d.label.split()[0] in _catalog_names()]
        if not defaults:
            self.add("memory", "training run", "skipped", "no default dataset available")
            return
        largest = max(defaults, key=Dataset.estimated_tokens)
        if self.cfg.quick:  # the cheapest to parse instead
            largest = next((d for d in defaults if d.tokenizer == "abc-char"), defaults[0])
        args = ["train", "--tokenizer", largest.tokenizer, "--quiet",
                "--out", str(self.tmp / "mem-run"),
                "--checkpoint-every", "100000", "--device", str(self.device)]  # fmt: skip
        if self.cfg.quick:
            args += ["--max-steps", "2", "--batch-size", "4", "--seq-len", "16", "--hidden-size",
                     "32", "--embed-dim", "16"]  # fmt: skip
            args += [a for f in largest.subset[:4] for a in ("--data", f)]
            where = f"{min(4, len(largest.subset))} files of {largest.label}"
            env = None
        else:
            args += ["--max-steps", "20"]
            where = f"{largest.label}, all {len(largest.files)} files (the most tokens)"
            env = self.user_env  # the user's own corpus cache, as `mgen train` would use
        t0 = time.perf_counter()
        rss, out = _peak_rss([sys.executable, "-m", "mgen", *map(str, args)], env)
        took = time.perf_counter() - t0
        cached = "corpus cached" if "[cached]" in out else "corpus parsed first"
        self.add("memory", "peak RSS, lstm2 training run (20 steps)" if not self.cfg.quick
                 else "peak RSS, tiny training run", f"{rss / 2**20:,.0f} MiB",
                 f"{where}; {cached}; {took:.0f} s")  # fmt: skip

    # -- threads ---------------------------------------------------------------------------
    def threads(self) -> None:
        """An lstm2 training step in a fresh process per wait policy (OpenMP reads it as it
        starts): timed alone, then beside a busy-looping process it starts itself. Policies:
        passive (mgen's default), active, and unset: libgomp then spins ~300,000 times at every
        barrier before sleeping, which is what plain PyTorch gets."""
        results = {policy: self._policy_steps(policy) for policy in ("PASSIVE", "ACTIVE", "unset")}
        base = results["PASSIVE"][0]
        for policy, (alone, busy) in results.items():
            name = f"lstm2 {self.fastest} step, OMP_WAIT_POLICY " + (
                "unset" if policy == "unset" else policy)  # fmt: skip
            self.add("threads", f"{name}, alone", f"{alone * 1000:,.0f} ms",
                     f"{alone / base:.2f}x PASSIVE alone")  # fmt: skip
            self.add("threads", f"{name}, beside a busy process", f"{busy * 1000:,.0f} ms",
                     f"{busy / alone:.2f}x its time alone, {busy / base:.2f}x PASSIVE alone")  # fmt: skip

    def _policy_steps(self, policy: str) -> tuple[float, float]:
        spec = json.dumps({"batch": self.size.batch_size, "seq": self.size.seq_len,
                           "precision": self.fastest, "steps": max(3, self.size.repeats),
                           "quick": self.cfg.quick})  # fmt: skip
        env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
        if policy != "unset":
            env["OMP_WAIT_POLICY"] = policy
        # torch first: OpenMP reads the policy as it loads, before mgen.bench could set one.
        code = f"import torch\nfrom mgen.bench import policy_child\npolicy_child({spec!r})"
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=False)  # fmt: skip
        if out.returncode:
            raise MgenError(f"thread-policy measurement failed: {out.stderr.strip()[-300:]}")
        alone, busy = map(float, out.stdout.strip().splitlines()[-1].split())
        return alone, busy


#: Seconds of steps per condition in `policy_child`: a spinning policy beside a busy process
#: can take seconds a step, and the bench must stay within minutes.
POLICY_BUDGET = 8.0


def policy_child(spec: str) -> None:
    """In a fresh process: print the median seconds of an lstm2 training step (cpu) alone, then
    beside a busy-looping process."""
    s = json.loads(spec)
    set_threads()
    options = {"hidden_size": 32, "embed_dim": 16} if s["quick"] else {}
    model = registry.load("model", "lstm2")
    cfg = model.Config.from_dict({**options, "vocab_size": 100})
    net = model(cfg)
    opt = torch.optim.Adam(net.parameters())
    x = torch.randint(0, 100, (s["batch"], s["seq"] + 1))
    dtype = torch.bfloat16 if s["precision"] == "bf16" else None

    def step() -> None:
        with torch.autocast("cpu", dtype=dtype, enabled=dtype is not None):
            logits, _ = net(x[:, :-1])
        loss = nn.functional.cross_entropy(logits.float().flatten(0, 1), x[:, 1:].flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    alone = _budgeted_median(step, s["steps"])
    competitor = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)  # let it start spinning
        busy = _budgeted_median(step, s["steps"])
    finally:
        competitor.kill()
        competitor.wait()
    print(alone, busy)


def _budgeted_median(fn: Callable[[], object], repeats: int) -> float:
    """Median seconds of up to `repeats` calls after a warm-up, stopping at POLICY_BUDGET."""
    fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < repeats and (not times or time.perf_counter() - start < POLICY_BUDGET):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


@torch.inference_mode()
def window_generate(model: nn.Module, *, steps: int, decoder, device: torch.device) -> list[int]:
    """The seeds' way: for every new token, run the model over the last WINDOW tokens again."""
    gen = torch.Generator(device=device).manual_seed(0)
    seq = torch.zeros(1, WINDOW, dtype=torch.long, device=device)  # a primer of WINDOW tokens
    for _ in range(steps):
        logits, _ = model(seq[:, -WINDOW:])  # [1, WINDOW, V], all recomputed
        nxt = decoder(logits[:, -1].float(), gen)  # [1]
        seq = torch.cat([seq, nxt[:, None]], dim=1)
    return seq[0, WINDOW:].tolist()


def _fp32_val_loss(tr: Trainer) -> float:
    """Validation loss computed in fp32 whatever the training precision: the figures compare
    the trained weights, not the evaluation's arithmetic."""
    precision, tr.precision = tr.precision, "fp32"
    try:
        return tr.evaluate().get("val_loss", math.nan)
    finally:
        tr.precision = precision


def _never_ending(vocab: Vocab) -> Vocab:
    """A copy whose <end> id no model can produce: every sample runs all its steps, so tokens/s
    counts exactly the tokens computed."""
    import copy

    v = copy.copy(vocab)
    v.end_id = len(vocab)
    return v


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _catalog_names() -> set[str]:
    from mgen.plugins.datasets import CATALOG

    return set(CATALOG)


def _total_bytes(files: list[Path]) -> int:
    return sum(f.stat().st_size for f in files) or 1


def _peak_rss(cmd: list[str], env: dict | None) -> tuple[int, str]:
    """Run `cmd` under a small wrapper that reports its largest process's peak RSS in bytes."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stdout.write(p.stdout + p.stderr)\n"
        "kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print('PEAK', kb * (1 if sys.platform == 'darwin' else 1024), p.returncode)\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], env=env, capture_output=True,
                         text=True, check=False)  # fmt: skip
    last = out.stdout.strip().splitlines()[-1].split() if out.stdout.strip() else []
    if len(last) != 3 or last[0] != "PEAK" or last[2] != "0":
        raise MgenError(f"training run for the memory figure failed: {out.stdout[-300:]}")
    return int(last[1]), out.stdout


def table(rows: list[Row]) -> str:
    """The rows as one Markdown table."""
    ordered = sorted(rows, key=lambda r: SECTIONS.index(r.section))  # stable: run order within
    lines = ["| section | measurement | value | notes |", "|---|---|---|---|"]
    lines += [f"| {r.section} | {r.item} | {r.value} | {r.note} |" for r in ordered]
    return "\n".join(lines)


def main() -> None:
    """`python -m mgen.bench [options]`: the same as `mgen bench [options]`."""
    from mgen.cli.app import app

    app(["bench", *sys.argv[1:]], prog_name="python -m mgen")


if __name__ == "__main__":
    main()
