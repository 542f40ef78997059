"""The model contract: `forward(ids[B,T], state) -> (logits[B,T,V], state)` plus `init_state`."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import torch
from torch import nn

from mgen.core.config import Config
from mgen.core.errors import ConfigError

#: A recurrent state: whatever tensors the model carries from one step to the next.
State = Any


@dataclasses.dataclass
class ModelConfig(Config):
    """Every model config has the vocabulary size; the engine fills it in from the tokenizer."""

    vocab_size: int = 0

    def validate(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "dropout" and not 0.0 <= value < 1.0:
                raise ConfigError(f"dropout must be in [0, 1), got {value}")
            if f.name != "dropout" and isinstance(value, int) and value < 0:
                raise ConfigError(f"{f.name} must not be negative, got {value}")


class SequenceModel(nn.Module):
    """Base class for model plugins. Subclasses set `Config` and implement the two methods."""

    description: ClassVar[str] = ""
    Config: ClassVar[type[ModelConfig]] = ModelConfig

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config

    def forward(self, ids: torch.Tensor, state: State = None) -> tuple[torch.Tensor, State]:
        raise NotImplementedError

    def init_state(self, batch: int, device: torch.device | str = "cpu") -> State:
        raise NotImplementedError

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
