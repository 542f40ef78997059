"""Every setting of a training run (saved in config.json; `--resume` reads it back)."""

from __future__ import annotations

import dataclasses
from typing import Any

from mgen.core.config import Config
from mgen.core.errors import ConfigError


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
