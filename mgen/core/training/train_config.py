"""Every setting of a training run (saved in config.json; `--resume` reads it back)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from mgen.core.contracts.config import Config, check_seed
from mgen.core.contracts.errors import ConfigError

BATCHINGS = ("auto", "lanes", "piece-lanes", "pieces", "windows")


@dataclasses.dataclass
class TrainConfig(Config):
    tokenizer: str = "abc-char"
    model: str = "lstm2"
    data: list[str] = dataclasses.field(default_factory=list)  # empty: the embedded default
    epochs: int | None = None  # none of the three: the tokenizer's default time budget
    max_steps: int | None = None
    time_budget: float | None = None  # seconds
    # What --time-budget counts: wall-clock seconds, or CPU seconds of the training process
    # (all its threads), which a busy machine does not steal: for fair comparisons.
    clock: str = "wall"
    batch_size: int = 64
    # Tokens per window (backpropagation length); 0: the tokenizer's `recipe.seq_len` (the
    # carried state brings the context, and twice the updates per token trained better than
    # 128 at equal CPU time). `mgen.core.training.defaults.resolve` fills 0, auto and no length.
    seq_len: int = 0
    # lanes: the corpus as contiguous lanes, the state carried from window to window across
    # pieces (if the model can); piece-lanes: lanes in which each piece opens a window from the
    # empty state; pieces: whole pieces grouped by length, the state reset at each <start>;
    # windows: shuffled windows, each from an empty state (0.1's way); auto: the tokenizer's
    # `recipe.batching`, the better lane layout measured for its format at equal CPU time
    # (docs/performance.md, "Training recipe").
    batching: str = "auto"
    lr: float = 2e-3
    # constant, or a linear warm-up then cosine decay to the budget's end: measured slower at
    # CPU budgets of minutes (docs/performance.md, "Training recipe"), so off by default.
    lr_schedule: str = "constant"
    warmup_steps: int = 0
    min_lr_ratio: float = 0.1  # the cosine ends at lr * this
    weight_decay: float = 0.0  # AdamW's decoupled decay (0: plain Adam)
    grad_clip: float = 1.0
    val_fraction: float = 0.1
    val_data: list[str] = dataclasses.field(default_factory=list)  # instead of a random split
    eval_every: int | None = None  # steps between validations (None: each epoch's end)
    checkpoint_every: int = 200  # steps; also at every validation, on Ctrl-C and at the end
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    workers: int = 0  # parsing processes; 0: every core
    # Attribute controls (docs/control.md): the attributes that open each training piece as
    # tokens (key, meter, tempo, length, collection; "all"), each left out of a piece with
    # probability control_dropout, so sampling may ask for any of them or none.
    controls: list[str] = dataclasses.field(default_factory=list)
    control_dropout: float = 0.4
    # Every this many tokens of a piece, its kept controls again (0: only at its start), so
    # every training window holds them and sampling keeps restating what was asked.
    control_every: int = 0
    # Infilling (docs/control.md): the share of pieces rewritten suffix, prefix, middle with
    # sentinel tokens (mgen.core.data.infill), so `mgen sample --infill` can fill a span. 0: off.
    infill_share: float = 0.0
    tokenizer_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    model_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    # Fine-tuning: the run directory or shipped model to start from (its tokenizer, fixed
    # vocabulary and weights); mgen.core.runs.finetune.
    init: str | None = None

    def has_length(self) -> bool:
        return any(v is not None for v in (self.epochs, self.max_steps, self.time_budget))

    def validate(self) -> None:
        for name in ("batch_size", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be >= 1")
        if self.seq_len < 0:
            raise ConfigError("--seq-len must be >= 1 (0: the tokenizer's default)")
        if self.clock not in ("wall", "cpu"):
            raise ConfigError(f"--clock must be wall or cpu, got {self.clock!r}")
        if self.batching not in BATCHINGS:
            raise ConfigError(
                f"--batching must be one of {', '.join(BATCHINGS)}, got {self.batching!r}"
            )
        if self.lr_schedule not in ("cosine", "constant"):
            raise ConfigError(f"--lr-schedule must be cosine or constant, got {self.lr_schedule!r}")
        decay_ok = _finite(self.weight_decay, 0)
        if self.warmup_steps < 0 or not 0 <= self.min_lr_ratio <= 1 or not decay_ok:
            raise ConfigError("--warmup-steps, --weight-decay must be >= 0; min_lr_ratio in [0, 1]")
        for name in ("epochs", "max_steps", "eval_every"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be >= 1, got {v}")
        if self.time_budget is not None and not _finite(self.time_budget, 0, strict=True):
            raise ConfigError("--time-budget must be positive and finite")
        if not _finite(self.lr, 0, strict=True):
            raise ConfigError(f"--lr must be > 0 and finite, got {self.lr}")
        if not 0 <= self.val_fraction < 1:
            raise ConfigError(f"--val-fraction must be in [0, 1), got {self.val_fraction}")
        if not _finite(self.grad_clip, 0, strict=True):
            raise ConfigError(f"grad_clip must be a finite number > 0, got {self.grad_clip}")
        self._check_controls()
        check_seed(self.seed)

    def _check_controls(self) -> None:
        from mgen.core.contracts.controls import ATTRIBUTES

        unknown = [n for n in self.controls if n not in (*ATTRIBUTES, "all")]
        if unknown:
            raise ConfigError(f"--controls: unknown attribute {', '.join(map(str, unknown))}; "
                              f"known: {', '.join(ATTRIBUTES)}, all")  # fmt: skip
        if not 0 <= self.control_dropout < 1:
            raise ConfigError(f"--control-dropout must be in [0, 1), got {self.control_dropout}")
        if self.control_every and (self.control_every < 8 or not self.controls):
            raise ConfigError(f"--control-every must be 0 or at least 8, with --controls; "
                              f"got {self.control_every}")  # fmt: skip
        if self.control_every and self.infill_share:
            raise ConfigError("--control-every and --infill do not go together yet")
        if not _finite(self.infill_share, 0) or self.infill_share > 1:
            raise ConfigError(f"--infill-share must be in [0, 1], got {self.infill_share}")


def _finite(x: float, low: float, strict: bool = False) -> bool:
    """`x` is a finite number above `low` (or at it, unless strict): NaN and inf never are."""
    return math.isfinite(x) and (x > low if strict else x >= low)
