"""Training engine: teacher forcing, cross-entropy, Adam, gradient clipping, checkpoints.

Format-free: `prepare_data` turns files into windows of ids; a `Trainer` fits any
`SequenceModel` on them and keeps the run directory up to date.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mgen.core import history, registry, rundir
from mgen.core.device import autocast, resolve_device, resolve_precision
from mgen.core.distributed import Dist
from mgen.core.errors import CheckpointError, one_line
from mgen.core.model import SequenceModel, build_model
from mgen.core.prepare import TrainData
from mgen.core.scoring import score_windows
from mgen.core.train_config import TrainConfig
from mgen.core.versions import package_versions

Log = Callable[[str], None]


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


class Trainer:
    """One training run of one model on prepared data, in one run directory."""

    def __init__(
        self,
        cfg: TrainConfig,
        run: Path,
        data: TrainData,
        *,
        model: SequenceModel | None = None,
        dist: Dist | None = None,
        log: Log = print,
        progress: bool = True,
    ):
        self.cfg, self.run, self.data, self.log = cfg, Path(run), data, log
        self.show_progress = progress
        self.dist = dist or Dist(device=resolve_device(cfg.device))
        self.device = self.dist.device
        self.precision = resolve_precision(cfg.precision, self.device)
        self.tok = data.tokenizer
        torch.manual_seed(cfg.seed)
        if model is None:
            options = {**cfg.model_options, "vocab_size": len(self.tok.require_vocab())}
            model = build_model(cfg.model, options)
        self.model = model.to(self.device)
        # One fused kernel (CPU, CUDA) instead of a loop over parameters: ~2% of an lstm2 step.
        self._fused = self.device.type in ("cpu", "cuda")
        self.opt = torch.optim.Adam(self.model.parameters(), lr=cfg.lr, fused=self._fused)
        # fp16 needs loss scaling; bf16 and fp32 do not.
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.precision == "fp16")
        self.state = Progress()
        self.rows: list[dict[str, Any]] = []
        # What a step runs: the model, or during fit() on several processes DDP around it.
        self.net: torch.nn.Module = self.model
        self._t0, self._base_elapsed = time.monotonic(), 0.0

    # -- checkpoints -----------------------------------------------------------------------
    def restore(self) -> None:
        """Continue from the run directory's checkpoint (if it has one yet)."""
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
            raise CheckpointError(
                f"checkpoint in {self.run} does not fit this run: {one_line(e)}"
            ) from None
        # Rows written after this checkpoint (a kill between metrics and checkpoint) are redone.
        self.rows = history.read_metrics(self.run)[: self.state.metric_rows]
        self.log(f"resumed {self.run} at step {self.state.step} (epoch {self.state.epoch + 1})")

    def save_checkpoint(self) -> None:
        self.state.elapsed = self.elapsed()
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
        cfg = self.cfg
        rundir.make_run_dir(self.run)
        rundir.save_tokenizer(self.run, cfg.tokenizer, self.tok)
        plugins = {
            kind: {
                "name": name,
                "version": registry.plugin_version(kind, name),
                "distribution": registry.plugin_distribution(kind, name),
            }
            for kind, name in (("tokenizer", cfg.tokenizer), ("model", cfg.model))
        }
        rundir.write_json(
            self.run / rundir.CONFIG,
            {
                "train": cfg.to_dict(),
                "tokenizer": cfg.tokenizer,
                "model": cfg.model,
                "model_config": self.model.config.to_dict(),
                "model_parameters": self.model.num_parameters(),
                "plugins": plugins,
                "seq_len": self.data.seq_len,
                "device": str(self.device),
                "precision": self.precision,
                "data": self.data.summary,
                "versions": package_versions(),
            },
        )

    # -- one step --------------------------------------------------------------------------
    def loss_on(self, x: np.ndarray, y: np.ndarray) -> torch.Tensor:
        """Teacher forcing: inputs [B,T] predict targets [B,T]; the mean loss."""
        xt = torch.from_numpy(x).to(self.device, non_blocking=True)
        yt = torch.from_numpy(y).to(self.device, non_blocking=True)
        with autocast(self.device, self.precision):
            logits, _ = self.net(xt)  # [B, T, V]
        return F.cross_entropy(logits.float().flatten(0, 1), yt.flatten())

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One update on the global batch x, y [B,T]; each rank computes its share of it.
        Advances the step and token counters; returns the global batch's loss."""
        self.net.train()
        xs, ys, weight = self._share(x, y)
        self.dist.reseed(self.cfg.seed, self.state.step)
        loss = self.loss_on(xs, ys)
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
        self.state.step += 1
        self.state.tokens += x.size
        return self.dist.mean(float(loss.detach()))

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

    def evaluate(self, precision: str | None = None) -> dict[str, float]:
        """Mean loss (nats, bits) and accuracy over the first `max_val_batches` batches of
        validation windows, in a fixed order, under `precision` (default: training's). Each
        rank scores a disjoint share and the sums are added over ranks."""
        windows = self.data.val
        limit = min(windows.n_windows, self.cfg.max_val_batches * windows.batch_size)
        ids = self.dist.shard(np.arange(limit))
        score = score_windows(self.model, windows, ids, self.device, precision or self.precision)
        score.nats, score.correct, score.tokens = self.dist.sum(
            [score.nats, score.correct, score.tokens]
        )
        return score.metrics()

    # -- the loop --------------------------------------------------------------------------
    def elapsed(self) -> float:
        """Seconds trained so far, across resumes."""
        return self._base_elapsed + time.monotonic() - self._t0

    def total_epochs(self) -> int:
        cfg = self.cfg
        if cfg.epochs is not None:
            return cfg.epochs
        if cfg.max_steps is not None or cfg.time_budget is not None:
            return 10**9  # bounded by steps or time instead
        return self.tok.default_epochs

    def done(self) -> bool:
        cfg, s = self.cfg, self.state
        if cfg.max_steps is not None and s.step >= cfg.max_steps:
            return True
        # Clocks differ between ranks: stop all when one runs out (any() syncs them).
        if cfg.time_budget is not None and self.dist.any(self.elapsed() >= cfg.time_budget):
            return True
        return s.epoch >= self.total_epochs()

    def fit(self) -> Path:
        """Train until epochs, steps or time run out. Ctrl-C or SIGTERM saves a checkpoint
        and stops (KeyboardInterrupt propagates, so the caller can exit 130)."""
        self.write_static()
        self._t0, self._base_elapsed = time.monotonic(), self.state.elapsed
        self.net = self.dist.wrap(self.model)
        try:
            with _sigterm_as_interrupt():
                while not self.done():
                    self._epoch()
        except KeyboardInterrupt:
            self.save_checkpoint()
            self.log(
                f"interrupted: checkpoint saved at step {self.state.step}; continue with --resume"
            )
            raise
        finally:
            # DDP holds the process group; released here, its threads can stop before exit.
            self.net = self.model
        if self.dist.is_main and not (self.run / rundir.WEIGHTS).exists():
            rundir.save_weights(self.run, self.model)
        return self.run

    def _epoch(self) -> None:
        """Run the rest of the current epoch (or until done), then record and checkpoint."""
        from tqdm import tqdm

        s, cfg = self.state, self.cfg
        since = (s.elapsed, s.tokens)
        per_epoch = self.data.train.batches_per_epoch()
        bar = tqdm(total=per_epoch, initial=s.batch, desc=f"epoch {s.epoch + 1}", unit="batch",
                   disable=not self.show_progress, leave=False)  # fmt: skip
        for b, (x, y) in self.data.train.epoch_batches(cfg.seed, s.epoch, s.batch):
            s.losses.append(self.step(x, y))
            s.batch = b + 1
            rate = (s.tokens - since[1]) / max(1e-9, self.elapsed() - since[0])
            bar.set_postfix(loss=f"{s.losses[-1]:.3f}", tok_s=f"{rate:.0f}", refresh=False)
            bar.update(1)
            if s.step % cfg.checkpoint_every == 0:
                self.save_checkpoint()
            if self.done():
                break
        bar.close()
        if s.batch >= per_epoch:
            s.epoch, s.batch = s.epoch + 1, 0
        self._record(float(np.mean(s.losses[-per_epoch:])), since)
        self.save_checkpoint()
        s.losses = s.losses[-per_epoch:]

    def _record(self, train_loss: float, since: tuple[float, int]) -> None:
        """Validate, append a metrics row, keep the best weights, redraw the curve, print."""
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
        if self.dist.is_main:
            if val < s.best_val:
                rundir.save_weights(self.run, self.model)
            history.write_metrics(self.run, self.rows)
            history.plot_loss(self.run, self.rows, f"{self.cfg.model} on {self.cfg.tokenizer}")
        s.best_val = min(s.best_val, val)
        self.log(_row_text(row, metrics))


def _row_text(row: dict[str, Any], metrics: dict[str, float]) -> str:
    msg = (
        f"epoch {row['epoch']} step {row['step']}: train {row['train_loss']:.4f} nats "
        f"({row['train_bits']:.3f} bits)"
    )
    if metrics:
        msg += (
            f"  val {metrics['val_loss']:.4f} nats ({metrics['val_bits']:.3f} bits)"
            f"  acc {metrics['val_acc']:.3f}"
        )
    return msg + f"  {row['tokens_per_s']:.0f} tok/s"


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler, `kill`, torchrun stopping its workers) stops training the way
    Ctrl-C does: a checkpoint, then exit. Only the main thread may install handlers."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def set_threads() -> None:
    """Use every core for intra-op work unless the user set OMP/torch threads themselves."""
    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(os.cpu_count() or 1)
