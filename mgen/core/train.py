"""Training engine: teacher forcing, cross-entropy, Adam, gradient clipping, checkpoints.

Format-free: the tokenizer turns files into pieces, this module turns pieces into batches of
windows and trains any `SequenceModel` on them.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mgen.core import distributed, registry, rundir
from mgen.core.config import Config
from mgen.core.data import (
    Corpus,
    Windows,
    find_files,
    load_corpus,
    split_pieces,
    token_stream,
)
from mgen.core.device import autocast, resolve_device, resolve_precision
from mgen.core.errors import ConfigError, DataError
from mgen.core.tokenizer import Tokenizer

Log = Callable[[str], None]


@dataclasses.dataclass
class TrainConfig(Config):
    tokenizer: str = "abc-char"
    model: str = "lstm2"
    data: list[str] = dataclasses.field(default_factory=list)  # empty: the embedded default
    epochs: int | None = None  # None: the tokenizer's default (unless steps/time bound it)
    max_steps: int | None = None
    time_budget: float | None = None  # seconds
    batch_size: int = 64
    seq_len: int = 128
    lr: float = 2e-3
    grad_clip: float = 1.0
    val_fraction: float = 0.1
    max_val_batches: int = 50
    checkpoint_every: int = 200  # steps; also at every epoch end, on Ctrl-C and at the end
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    workers: int = 0  # parsing processes; 0: every core
    tokenizer_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    model_options: dict[str, Any] = dataclasses.field(default_factory=dict)

    def validate(self) -> None:
        for name in ("batch_size", "seq_len", "max_val_batches", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be >= 1")
        for name in ("epochs", "max_steps"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be >= 1, got {v}")
        if self.time_budget is not None and self.time_budget <= 0:
            raise ConfigError("--time-budget must be positive")
        if not self.lr > 0:
            raise ConfigError(f"--lr must be > 0, got {self.lr}")
        if not 0 <= self.val_fraction < 1:
            raise ConfigError(f"--val-fraction must be in [0, 1), got {self.val_fraction}")


@dataclasses.dataclass
class Progress:
    """Where training stands; saved in every checkpoint."""

    epoch: int = 0
    batch: int = 0  # next batch index within the epoch
    step: int = 0
    tokens: int = 0
    elapsed: float = 0.0
    best_val: float = math.inf
    # Kept so a resumed run continues exactly: the rows of metrics.csv this checkpoint covers
    # and the current epoch's batch losses (the next row's train_loss averages them).
    metric_rows: int = 0
    losses: list[float] = dataclasses.field(default_factory=list)


def prepare_tokenizer(cfg: TrainConfig) -> Tokenizer:
    cls = registry.load("tokenizer", cfg.tokenizer)
    return cls(cls.Config.from_dict(cfg.tokenizer_options))


def corpus_files(tok: Tokenizer, data: list[str]) -> list[Path]:
    if not data:
        return tok.default_files()
    files = find_files([Path(d) for d in data], tok.file_patterns)
    if not files:
        raise DataError(f"no files matching {', '.join(tok.file_patterns)} under {', '.join(data)}")
    return files


class Trainer:
    """One training run in one run directory."""

    def __init__(
        self,
        cfg: TrainConfig,
        run: Path,
        log: Log = print,
        progress: bool = True,
        resume: bool = False,
        tokenizer: Tokenizer | None = None,
        dist_timeout: float = distributed.DEFAULT_TIMEOUT,
    ):
        self.cfg, self.run, self.log, self.show_progress = cfg, Path(run), log, progress
        registry.load("model", cfg.model)  # unknown names fail before any data is read
        torch.manual_seed(cfg.seed)
        # Under torchrun: join the process group; each process gets its own GPU.
        self.dist = distributed.setup(resolve_device(cfg.device), dist_timeout)
        self.device = self.dist.device
        self._join_ranks()
        self.precision = resolve_precision(cfg.precision, self.device)
        self.tok = tokenizer or prepare_tokenizer(cfg)
        self._load_data(resume)
        model_options = {**cfg.model_options, "vocab_size": len(self.tok.vocab)}
        self.model = rundir.build_model(cfg.model, model_options).to(self.device)
        # One fused kernel (CPU, CUDA) instead of a loop over parameters: ~2% of an lstm2 step.
        self._fused = self.device.type in ("cpu", "cuda")
        self.opt = torch.optim.Adam(self.model.parameters(), lr=cfg.lr, fused=self._fused)
        # fp16 needs loss scaling; bf16 and fp32 do not.
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.precision == "fp16")
        self.state = Progress()
        self.rows: list[dict[str, Any]] = []
        if resume:
            self._restore()
        # What train_step runs: the model, or during fit() on several processes DDP around it.
        self.net: torch.nn.Module = self.model

    def _join_ranks(self) -> None:
        """Several processes: rank 0 alone speaks and names the run; batches split evenly."""
        d = self.dist
        if not d.active:
            return
        if self.cfg.batch_size % d.world:
            raise ConfigError(
                f"--batch-size {self.cfg.batch_size} is the global batch and must "
                f"divide evenly over {d.world} processes"
            )
        if not d.is_main:
            self.log, self.show_progress = _silent, False
        self.run = Path(d.broadcast(str(self.run)))  # default names hold a time stamp

    # -- data ------------------------------------------------------------------------------
    def _load_data(self, resume: bool) -> None:
        cfg = self.cfg
        files = corpus_files(self.tok, cfg.data)
        corpus = self._load_corpus(files)
        if corpus.skipped:
            self.log(f"skipped {len(corpus.skipped)} of {len(files)} files (see warnings above)")
        if len(corpus) == 0:
            where = ", ".join(cfg.data) or "the default dataset"
            raise DataError(
                f"no usable piece in {len(files)} file(s) under {where} "
                f"(patterns {', '.join(self.tok.file_patterns)})"
            )
        train_ids, val_ids = split_pieces(len(corpus), cfg.val_fraction, cfg.seed)
        if resume:
            _, self.tok = rundir.load_tokenizer(self.run)
        else:
            self.tok.fit(corpus.counts(train_ids))
        vocab = self.tok.vocab
        train, val = token_stream(corpus, train_ids, vocab), token_stream(corpus, val_ids, vocab)
        seq_len = min(cfg.seq_len, len(train) - 1)
        if seq_len < 2:
            raise DataError("the training pieces are too short to train on")
        if seq_len < cfg.seq_len:
            self.log(f"note: corpus is small; using --seq-len {seq_len}")
        self.seq_len = seq_len
        self.train_windows = Windows(train, seq_len, cfg.batch_size)
        self.val_windows = Windows(val, min(seq_len, max(1, len(val) - 1)), cfg.batch_size)
        self.data_summary = {
            "files": len(files),
            "used_files": len(corpus.files),
            "skipped": len(corpus.skipped),
            "pieces": len(corpus),
            "train_pieces": len(train_ids),
            "val_pieces": len(val_ids),
            "train_tokens": len(train),
            "val_tokens": len(val),
            "vocab_size": len(vocab),
            "cached": corpus.from_cache,
        }
        self.log(
            f"data: {len(corpus)} pieces from {len(corpus.files)} files "
            f"({len(train_ids)} train / {len(val_ids)} validation), "
            f"{len(train):,} training tokens, vocabulary {len(vocab)}"
            + (" [cached]" if corpus.from_cache else "")
        )

    def _load_corpus(self, files: list[Path]) -> Corpus:
        """Each machine's first process parses (and caches) the corpus; its neighbours wait,
        then read the cache instead of parsing it again."""
        d = self.dist
        if not d.is_local_main:
            d.barrier()
        corpus = load_corpus(
            self.tok,
            files,
            workers=self.cfg.workers or None,
            progress=self.show_progress,
            warn=self.log,
        )
        if d.is_local_main:
            d.barrier()
        return corpus

    # -- checkpoints -----------------------------------------------------------------------
    def _restore(self) -> None:
        if self.dist.is_main:  # every rank reads the run; rank 0 alone writes (and tidies) it
            rundir.remove_stale_temps(self.run)
        if not (self.run / rundir.CHECKPOINT).exists():
            # Stopped before its first checkpoint: start over, exactly as the run first began.
            self.log(f"no checkpoint in {self.run} yet; starting it again from step 0")
            return
        ck = rundir.load_checkpoint(self.run)
        try:
            self.model.load_state_dict(ck["model"])
            self.opt.load_state_dict(ck["optimizer"])
            self.state = Progress(**ck["progress"])
            torch.set_rng_state(ck["rng"])
        except (KeyError, RuntimeError, ValueError, TypeError) as e:
            raise rundir.CheckpointError(
                f"checkpoint in {self.run} does not fit this run: {rundir.one_line(e)}"
            ) from None
        # Rows written after this checkpoint (a kill between metrics and checkpoint) are redone.
        self.rows = rundir.read_metrics(self.run)[: self.state.metric_rows]
        self.log(f"resumed {self.run} at step {self.state.step} (epoch {self.state.epoch + 1})")

    def save_checkpoint(self) -> None:
        if not self.dist.is_main:
            return
        rundir.save_checkpoint(
            self.run,
            {
                "model": self.model.state_dict(),
                "optimizer": self.opt.state_dict(),
                "progress": dataclasses.asdict(self.state),
                "rng": torch.get_rng_state(),
            },
        )

    def write_static(self) -> None:
        """config.json and tokenizer.json: everything needed to rebuild this run."""
        if not self.dist.is_main:
            return
        rundir.make_run_dir(self.run)
        rundir.save_tokenizer(self.run, self.cfg.tokenizer, self.tok)
        rundir.write_json(
            self.run / rundir.CONFIG,
            {
                "train": self.cfg.to_dict(),
                "tokenizer": self.cfg.tokenizer,
                "model": self.cfg.model,
                "model_config": self.model.config.to_dict(),
                "model_parameters": self.model.num_parameters(),
                "plugins": {
                    kind: {
                        "name": name,
                        "version": registry.plugin_version(kind, name),
                        "distribution": registry.plugin_distribution(kind, name),
                    }
                    for kind, name in (("tokenizer", self.cfg.tokenizer), ("model", self.cfg.model))
                },
                "seq_len": self.seq_len,
                "device": str(self.device),
                "precision": self.precision,
                "data": self.data_summary,
                "versions": rundir.package_versions(),
            },
        )

    # -- the loop --------------------------------------------------------------------------
    def loss_on(
        self, x: np.ndarray, y: np.ndarray, net: torch.nn.Module | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher forcing: inputs [B,T] predict targets [B,T]. Returns (mean loss, logits).

        `net` is the module to run (the DDP wrapper when training); default the bare model."""
        xt = torch.from_numpy(x).to(self.device, non_blocking=True)
        yt = torch.from_numpy(y).to(self.device, non_blocking=True)
        with autocast(self.device, self.precision):
            logits, _ = (self.model if net is None else net)(xt)  # [B, T, V]
        loss = F.cross_entropy(logits.float().flatten(0, 1), yt.flatten())
        return loss, logits

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One update on the global batch x, y [B,T]; each rank computes its share of it."""
        self.net.train()
        x, y, weight = self._share(x, y)
        self.dist.reseed(self.cfg.seed, self.state.step)
        loss, _ = self.loss_on(x, y, self.net)
        if weight != 1.0:
            loss = loss * weight
        self.opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.opt)
        torch.nn.utils.clip_grad_norm_(
            self.model.parameters(), self.cfg.grad_clip, foreach=self._fused
        )
        self.scaler.step(self.opt)
        self.scaler.update()
        return self.dist.mean(float(loss.detach()))  # the global batch's loss on every rank

    def _share(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """This rank's rows of the global batch and its loss weight.

        DDP averages gradients over ranks, so weighting each rank's mean loss by
        world * rows / batch rows makes the update the global batch's mean loss, also for an
        epoch's short last batch. A rank left without rows runs one window at weight 0, since
        every rank must join each gradient all-reduce."""
        d = self.dist
        if not d.active:
            return x, y, 1.0
        xs, ys = d.shard(x), d.shard(y)
        if len(xs) == 0:
            return x[:1], y[:1], 0.0
        return xs, ys, d.world * len(xs) / len(x)

    @torch.no_grad()
    def evaluate(self, windows: Windows | None = None) -> dict[str, float]:
        """Mean loss (nats, bits) and accuracy over the validation windows, in a fixed order.

        The first `max_val_batches` batches' windows; each rank scores a disjoint share of them
        and the sums are added over ranks."""
        windows = windows or self.val_windows
        if windows.n_windows == 0:
            return {}
        self.model.eval()
        total, correct, count = 0.0, 0, 0
        bs = windows.batch_size
        ids = self.dist.shard(np.arange(min(windows.n_windows, self.cfg.max_val_batches * bs)))
        for start in range(0, len(ids), bs):
            x, y = windows.batch(ids[start : start + bs])
            loss, logits = self.loss_on(x, y)
            total += float(loss) * y.size
            correct += int((logits.argmax(-1).cpu().numpy() == y).sum())
            count += y.size
        total, correct, count = self.dist.sum([total, correct, count])
        nats = total / count
        return {"val_loss": nats, "val_bits": nats / math.log(2), "val_acc": correct / count}

    def elapsed(self) -> float:
        """Seconds trained so far, across resumes."""
        return self._base_elapsed + time.monotonic() - self._t0

    def _done(self) -> bool:
        cfg, s = self.cfg, self.state
        if cfg.max_steps is not None and s.step >= cfg.max_steps:
            return True
        # Clocks differ between ranks: stop all when one runs out (any() syncs them).
        if cfg.time_budget is not None and self.dist.any(self.elapsed() >= cfg.time_budget):
            return True
        return s.epoch >= self.total_epochs()

    def total_epochs(self) -> int:
        cfg = self.cfg
        if cfg.epochs is not None:
            return cfg.epochs
        if cfg.max_steps is not None or cfg.time_budget is not None:
            return 10**9  # bounded by steps or time instead
        return self.tok.default_epochs

    def _record(self, train_loss: float, since: tuple[float, int]) -> None:
        s = self.state
        metrics = self.evaluate()
        elapsed = self.elapsed()
        row = {
            "epoch": s.epoch + (s.batch > 0),
            "step": s.step,
            "tokens": s.tokens,
            "train_loss": round(train_loss, 5),
            "train_bits": round(train_loss / math.log(2), 5),
            "lr": self.cfg.lr,
            "elapsed_s": round(elapsed, 2),
            "tokens_per_s": round((s.tokens - since[1]) / max(1e-9, elapsed - since[0]), 1),
            **{k: round(v, 5) for k, v in metrics.items()},
        }
        self.rows.append(row)
        s.metric_rows = len(self.rows)
        val = metrics.get("val_loss", train_loss)
        if val < s.best_val:
            s.best_val = val
            if self.dist.is_main:
                rundir.save_weights(self.run, self.model)
        if self.dist.is_main:
            rundir.write_metrics(self.run, self.rows)
            rundir.plot_loss(self.run, self.rows, f"{self.cfg.model} on {self.cfg.tokenizer}")
        msg = (
            f"epoch {row['epoch']} step {s.step}: train {train_loss:.4f} nats "
            f"({row['train_bits']:.3f} bits)"
        )
        if metrics:
            msg += (
                f"  val {metrics['val_loss']:.4f} nats ({metrics['val_bits']:.3f} bits)"
                f"  acc {metrics['val_acc']:.3f}"
            )
        self.log(msg + f"  {row['tokens_per_s']:.0f} tok/s")

    def fit(self) -> Path:
        """Train until epochs, steps or time run out. Ctrl-C saves a checkpoint and stops."""
        from tqdm import tqdm

        self.write_static()
        s, cfg = self.state, self.cfg
        self._t0, self._base_elapsed = time.monotonic(), s.elapsed
        since = (s.elapsed, s.tokens)
        per_epoch = self.train_windows.batches_per_epoch()
        running, interrupted = s.losses, False  # the same list: checkpoints carry it
        self.net = self.dist.wrap(self.model)
        try:
            while not self._done():
                bar = tqdm(
                    total=per_epoch,
                    initial=s.batch,
                    desc=f"epoch {s.epoch + 1}",
                    unit="batch",
                    disable=not self.show_progress,
                    leave=False,
                )
                for b, (x, y) in self.train_windows.epoch_batches(cfg.seed, s.epoch, s.batch):
                    running.append(self.train_step(x, y))
                    s.step, s.batch, s.tokens = s.step + 1, b + 1, s.tokens + x.size
                    rate = (s.tokens - since[1]) / max(1e-9, self.elapsed() - since[0])
                    bar.set_postfix(loss=f"{running[-1]:.3f}", tok_s=f"{rate:.0f}", refresh=False)
                    bar.update(1)
                    if s.step % cfg.checkpoint_every == 0:
                        self._checkpoint()
                    if self._done():
                        break
                bar.close()
                if s.batch >= per_epoch:
                    s.epoch, s.batch = s.epoch + 1, 0
                self._record(float(np.mean(running[-per_epoch:])), since)
                self._checkpoint()
                running = s.losses = running[-per_epoch:]
        except KeyboardInterrupt:
            interrupted = True
            self._checkpoint()
            self.log(f"interrupted: checkpoint saved at step {s.step}; continue with --resume")
        finally:
            # DDP holds the process group; released here, its threads can stop before exit.
            self.net = self.model
        if not interrupted and self.dist.is_main and not (self.run / rundir.WEIGHTS).exists():
            rundir.save_weights(self.run, self.model)
        if interrupted:
            raise KeyboardInterrupt
        return self.run

    def _checkpoint(self) -> None:
        self.state.elapsed = self.elapsed()
        self.save_checkpoint()


def set_threads() -> None:
    """Use every core for intra-op work unless the user set OMP/torch threads themselves."""
    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(os.cpu_count() or 1)


def _silent(msg: str) -> None:
    """The log of ranks other than 0."""
