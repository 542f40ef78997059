"""Training engine: teacher forcing, cross-entropy, Adam, gradient clipping, checkpoints.

Format-free: `prepare_data` turns files into windows of ids; a `Trainer` fits any
`SequenceModel` on them and keeps the run directory up to date.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mgen.core.contracts import controls
from mgen.core.contracts.errors import CheckpointError, one_line
from mgen.core.contracts.model import SequenceModel, build_model
from mgen.core.contracts.vocab import Vocab
from mgen.core.contracts.vocabulary import require_vocab
from mgen.core.data.prepare import TrainData
from mgen.core.runs.artifact import RunDir
from mgen.core.runs.versions import package_versions
from mgen.core.sampling.scoring import Score, score_pieces
from mgen.core.training import carry, history
from mgen.core.training.defaults import resolve
from mgen.core.training.device import autocast, resolve_device, resolve_precision
from mgen.core.training.distributed import Dist
from mgen.core.training.schedule import lr_at
from mgen.core.training.signals import sigterm_as_interrupt, stop_requested
from mgen.core.training.train_config import TrainConfig

PAD_ID = Vocab.pad_id  # padding after a piece's end: never a target

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
    # and the batch losses since the last row (the next row's train_loss averages them).
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
        # The data laid the batches out; the recipe fills what else is left to the tokenizer
        # (the length, for a caller of the trainer's own; `train_run` resolved it already).
        cfg = resolve(dataclasses.replace(cfg, batching=data.train.layout.name), data.tokenizer)
        self.cfg, self.run, self.data, self.log = cfg, Path(run), data, log
        self.show_progress = progress
        self.dist = dist or Dist(device=resolve_device(cfg.device))
        self.device = self.dist.device
        self.precision = resolve_precision(cfg.precision, self.device)
        self.tok = data.tokenizer
        self.model = self._model(model)
        # One fused kernel (CPU, CUDA) instead of a loop over parameters: ~2% of an lstm2 step.
        self._fused = self.device.type in ("cpu", "cuda")
        self.opt = torch.optim.AdamW(
            self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, fused=self._fused
        )
        # fp16 needs loss scaling; bf16 and fp32 do not.
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.precision == "fp16")
        self.state = Progress()
        self.rows: list[dict[str, Any]] = []
        self._since = (0.0, 0)  # (elapsed, tokens) at the last metrics row
        # What a step runs: the model, or during fit() on several processes DDP around it.
        self.net: torch.nn.Module = self.model
        self._clock = time.process_time if cfg.clock == "cpu" else time.monotonic
        self._t0, self._base_elapsed = self._clock(), 0.0
        # The state carried from window to window, per group of rows (`carry_plan`'s key), as
        # the batches' layout declares; `_key` is the group the next step reads.
        self.layout = data.train.layout
        self.carry: dict[int, carry.State] = {}
        self._key, self._unscored = 0, self._given_ids()

    def _given_ids(self) -> np.ndarray:
        """Ids never scored: with restated controls the sampler writes every control token."""
        given = controls.ids(require_vocab(self.tok)) if self.cfg.control_every else set()
        return np.array(sorted(given), dtype=np.int64)

    def _model(self, model: SequenceModel | None) -> SequenceModel:
        """`model`, or the config's plugin built with seeded first weights; on the device."""
        torch.manual_seed(self.cfg.seed)
        if model is None:
            options = {**self.cfg.model_options, "vocab_size": len(require_vocab(self.tok))}
            model = build_model(self.cfg.model, options)
        return model.to(self.device)

    # -- checkpoints -----------------------------------------------------------------------
    @property
    def files(self) -> RunDir:
        """The run directory's files (the run artifact)."""
        return RunDir(self.run)

    def restore(self) -> None:
        """Continue from the run directory's checkpoint (if it has one yet)."""
        if self.dist.is_main:  # every rank reads the run; rank 0 alone writes (and tidies) it
            self.files.remove_stale_temps()
        self.files.check_resumable()  # trained weights and no checkpoint: never restart
        if not self.files.checkpoint.exists():
            # Stopped before its first checkpoint: start over, exactly as the run first began.
            self.log(f"no checkpoint in {self.run} yet; starting it again from step 0")
            return
        ck = self.files.load_checkpoint()
        try:
            self.model.load_state_dict(ck["model"])
            self.opt.load_state_dict(ck["optimizer"])
            self.state = Progress(**ck["progress"])
            torch.set_rng_state(ck["rng"])
            self.carry = carry.mine(ck.get("carry"), self.dist)
        except (KeyError, RuntimeError, ValueError, TypeError) as e:
            raise CheckpointError(
                f"checkpoint in {self.run} does not fit this run: {one_line(e)}"
            ) from None
        # Rows written after this checkpoint (a kill between metrics and checkpoint) are redone.
        self.rows = self.files.read_metrics()[: self.state.metric_rows]
        self.log(f"resumed {self.run} at step {self.state.step} (epoch {self.state.epoch + 1})")

    def save_checkpoint(self) -> None:
        self.state.elapsed = self.elapsed()
        # Every rank joins the gather; rank 0 alone writes.
        lanes = carry.gather(self.carry, self.dist) if self.layout.carries_state else None
        if not self.dist.is_main:
            return
        self.files.save_checkpoint(
            {
                "model": self.model.state_dict(),
                "optimizer": self.opt.state_dict(),
                "progress": dataclasses.asdict(self.state),
                "rng": torch.get_rng_state(),
                "carry": lanes,
            },
        )

    def write_static(self) -> None:
        """config.json and tokenizer.json: everything needed to rebuild this run."""
        if not self.dist.is_main:
            return
        cfg, files = self.cfg, self.files
        files.create()
        files.save_tokenizer(cfg.tokenizer, self.tok)
        files.save_config(
            {
                "train": cfg.to_dict(),
                "model": cfg.model,
                "model_config": self.model.config.to_dict(),
                "model_parameters": self.model.num_parameters(),
                "seq_len": self.data.seq_len,
                "device": str(self.device),
                "precision": self.precision,
                "data": self.data.summary,
                "versions": package_versions(),
            },
        )

    # -- one step --------------------------------------------------------------------------
    def loss_on(self, x: np.ndarray, y: np.ndarray) -> torch.Tensor:
        """Teacher forcing: inputs [B,T] predict targets [B,T]; the summed cross-entropy of
        the targets that are not <pad> (padding after a piece's end). A stateful run starts
        from the state the previous window of these rows ended in, and keeps the new one
        (detached: gradients stop at the window's start, the values flow on)."""
        xt = torch.from_numpy(x).to(self.device, non_blocking=True)
        yt = torch.from_numpy(y).to(self.device, non_blocking=True)
        with autocast(self.device, self.precision):
            state_in = self.carry.get(self._key) if self.layout.carries_state else None
            if state_in is not None and self.layout.fresh_at_start:  # a row opening a piece
                state_in = self.model.reset_rows(state_in, xt[:, 0] == Vocab.start_id)
            logits, state = self.net(xt, state_in)  # [B, T, V]
        if self.layout.carries_state:
            self.carry[self._key] = carry.detach(state)
        flat = logits.float().flatten(0, 1)  # [B*T, V]
        return F.cross_entropy(flat, yt.flatten(), ignore_index=PAD_ID, reduction="sum")

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One update on the global batch x, y [B,T]; each rank computes its share of it.
        Advances the step and token counters; returns the global batch's mean loss."""
        self.net.train()
        y = np.where(np.isin(y, self._unscored), PAD_ID, y) if len(self._unscored) else y
        xs, ys, weight = self._share(x, y)
        count = max(1, int((y != PAD_ID).sum()))  # the global batch's predicted tokens
        self.dist.reseed(self.cfg.seed, self.state.step)
        for group in self.opt.param_groups:
            group["lr"] = self.lr()
        # DDP averages gradients over ranks: world / count makes the update the global mean.
        loss = self.loss_on(xs, ys) * (weight * self.dist.world / count)
        self.opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.opt)
        torch.nn.utils.clip_grad_norm_(
            self.model.parameters(), self.cfg.grad_clip, foreach=self._fused
        )
        self.scaler.step(self.opt)
        self.scaler.update()
        self.state.step += 1
        self.state.tokens += count
        return self.dist.mean(float(loss.detach()))

    def _share(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """This rank's rows of the global batch, and 1 (or 0 for a rank left without rows: it
        runs one row at weight 0, since every rank must join each gradient all-reduce)."""
        d = self.dist
        if not d.active:
            return x, y, 1.0
        xs, ys = d.shard(x), d.shard(y)
        if len(xs) == 0:
            return x[:1], y[:1], 0.0
        return xs, ys, 1.0

    def evaluate(self) -> dict[str, float]:
        """Whole-piece validation: every validation piece from <start> to <end> with the state
        carried, in fp32 (`score_pieces`, as `mgen eval --run` scores). Nats and bits per token
        and per note, accuracy, <unk> share. Ranks score disjoint shares; sums are added."""
        pieces, notes = self.data.val_pieces, self.data.val_notes
        mine = self.dist.shard(np.arange(len(pieces)))
        score = score_pieces(
            self.model, [pieces[i] for i in mine], self.device,
            unk_id=require_vocab(self.tok).unk_id,
            notes=[notes[i] for i in mine] if notes is not None else None,
            stateful=self.model.carries_state, unscored=self._unscored,
        )  # fmt: skip
        return Score.from_values(self.dist.sum(score.values())).metrics()

    def lr(self) -> float:
        """The learning rate for the next step (warm-up, then decay over the budget)."""
        cfg = self.cfg
        # A short run warms up over its first tenth at most.
        warmup = min(cfg.warmup_steps, (cfg.max_steps or 10**9) // 10)
        return lr_at(cfg.lr, cfg.lr_schedule, self.state.step, warmup, self.budget_spent(),
                     cfg.min_lr_ratio)  # fmt: skip

    def budget_spent(self) -> float:
        """How much of the run's length (epochs, steps or time, whichever ends first) is used."""
        cfg, s = self.cfg, self.state
        spent = []
        if cfg.max_steps is not None:
            spent.append(s.step / cfg.max_steps)
        if cfg.time_budget is not None:
            spent.append(self.elapsed() / cfg.time_budget)
        if cfg.epochs is not None:
            per_epoch = max(1, self.data.train.batches_per_epoch())
            spent.append((s.epoch + s.batch / per_epoch) / cfg.epochs)
        return max(spent, default=0.0)

    # -- the loop --------------------------------------------------------------------------
    def elapsed(self) -> float:
        """Seconds trained so far (wall-clock, or CPU with --clock cpu), across resumes."""
        return self._base_elapsed + self._clock() - self._t0

    def done(self) -> bool:
        cfg, s = self.cfg, self.state
        if cfg.max_steps is not None and s.step >= cfg.max_steps:
            return True
        # Clocks differ between ranks: stop all when one runs out (any() syncs them).
        if cfg.time_budget is not None and self.dist.any(self.elapsed() >= cfg.time_budget):
            return True
        return cfg.epochs is not None and s.epoch >= cfg.epochs

    def fit(self) -> Path:
        """Train until epochs, steps or time run out. Ctrl-C or SIGTERM saves a checkpoint
        and stops (KeyboardInterrupt propagates, so the caller can exit 130)."""
        self.write_static()
        self._t0, self._base_elapsed = self._clock(), self.state.elapsed
        self._since = (self.state.elapsed, self.state.tokens)
        if self.state.step == 0:  # the same on every rank: save_checkpoint is collective
            # A checkpoint before the first weights: a run with weights always has one, so
            # `--resume` can tell a run killed at its start from trained weights it must keep.
            self.save_checkpoint()
        self.net = self.dist.wrap(self.model)
        try:
            with sigterm_as_interrupt():
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
        if self.dist.is_main and not self.files.weights.exists():
            self.files.save_weights(self.model)
        return self.run

    def _epoch(self) -> None:
        """Run the rest of the current epoch (or until done), validating every `eval_every`
        steps and at its end; checkpoints on the way."""
        from tqdm import tqdm

        s, cfg = self.state, self.cfg
        per_epoch = self.data.train.batches_per_epoch()
        bar = tqdm(total=per_epoch, initial=s.batch, desc=f"epoch {s.epoch + 1}", unit="batch",
                   disable=not self.show_progress, leave=False)  # fmt: skip
        for b, (x, y) in self.data.train.epoch_batches(cfg.seed, s.epoch, s.batch):
            self._key, fresh, last = self.data.train.carry_plan(cfg.seed, s.epoch, b)
            if fresh:
                self.carry.pop(self._key, None)  # these rows start their pieces afresh
            s.losses.append(self.step(x, y))
            if stop_requested():
                raise KeyboardInterrupt  # SIGTERM: stop here, between steps
            if last:
                self.carry.pop(self._key, None)
            s.batch = b + 1
            bar.set_postfix(loss=f"{s.losses[-1]:.3f}", tok_s=f"{self._rate():.0f}", refresh=False)
            bar.update(1)
            if cfg.eval_every and s.step % cfg.eval_every == 0:
                self._record()
            elif s.step % cfg.checkpoint_every == 0:
                self.save_checkpoint()
            if self.done():
                break
        bar.close()
        if s.batch >= per_epoch:
            s.epoch, s.batch = s.epoch + 1, 0
        if s.losses or not self.rows:  # not just recorded by eval_every
            self._record()

    def _rate(self) -> float:
        """Training tokens per second since the last metrics row (or this session's start)."""
        t0, tokens0 = self._since
        return (self.state.tokens - tokens0) / max(1e-9, self.elapsed() - t0)

    def _record(self) -> None:
        """Validate, append a metrics row, keep the best weights, redraw the curve, print,
        checkpoint."""
        s = self.state
        train_loss = float(np.mean(s.losses)) if s.losses else math.nan
        metrics = self.evaluate()
        elapsed = self.elapsed()
        row = {
            "epoch": s.epoch + (s.batch > 0),
            "step": s.step,
            "tokens": s.tokens,
            "train_loss": round(train_loss, 5),
            "train_bits": round(train_loss / math.log(2), 5),
            "lr": round(self.lr(), 8),
            "elapsed_s": round(elapsed, 2),
            "tokens_per_s": round(self._rate(), 1),
            **{k: round(v, 5) for k, v in metrics.items()},
        }
        self.rows.append(row)
        s.metric_rows = len(self.rows)
        val = metrics.get("val_loss", train_loss)
        if self.dist.is_main:
            if val < s.best_val:
                self.files.save_weights(self.model)
            self.files.write_metrics(self.rows)
            history.plot_loss(self.run, self.rows, f"{self.cfg.model} on {self.cfg.tokenizer}")
        s.best_val = min(s.best_val, val)
        self.log(_row_text(row, metrics))
        s.losses, self._since = [], (elapsed, s.tokens)
        self.save_checkpoint()


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
