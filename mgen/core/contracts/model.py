"""The model contract: `forward(ids[B,T], state=None) -> (logits[B,T,V], state)`.

`state` is whatever the model carries from one call to the next (a recurrent state, a cache):
None means "start from nothing". Sampling feeds one token at a time and passes the returned
state back in, so a model never recomputes what it has seen.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import torch
from torch import nn

from mgen.core.contracts import registry
from mgen.core.contracts.config import Config
from mgen.core.contracts.errors import ConfigError, MgenError, one_line

#: A recurrent state: whatever tensors the model carries from one step to the next.
State = Any


@dataclasses.dataclass
class ModelConfig(Config):
    """Every model config has the vocabulary size; the engine fills it in from the tokenizer.
    Integer sizes must not be negative; subclasses validate their own other settings."""

    vocab_size: int = 0

    def validate(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int) and not isinstance(value, bool) and value < 0:
                raise ConfigError(f"{f.name} must not be negative, got {value}")


class SequenceModel(nn.Module):
    """Base class for model plugins. Subclasses set `Config` and implement `forward`."""

    description: ClassVar[str] = ""
    Config: ClassVar[type[ModelConfig]] = ModelConfig
    #: Whether `forward` can continue from the state it returned for the previous window.
    #: Training then reads contiguous lanes with the state carried (truncated BPTT) and scoring
    #: reads long pieces in chunks; a model that cannot (False) trains on shuffled windows
    #: from an empty state and is scored on each whole piece in one call.
    carries_state: ClassVar[bool] = True
    #: Where the batch is in each tensor of that state, if zeros are its empty value (torch's
    #: recurrent layers: 1, for [layers, B, hidden]): then `reset_rows` can empty single rows.
    state_batch_dim: ClassVar[int | None] = None

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config

    def forward(self, ids: torch.Tensor, state: State = None) -> tuple[torch.Tensor, State]:
        raise NotImplementedError

    def reset_rows(self, state: State, rows: torch.Tensor) -> State:
        """`state` with the batch rows marked in `rows` ([B] bool) emptied (zeros). Training
        calls it for rows whose window opens a new piece, so each piece is read from the empty
        state that sampling and scoring start from. It needs `state_batch_dim`; a model that
        leaves that None keeps its state across pieces (or overrides this method)."""
        dim = self.state_batch_dim
        if dim is None or not bool(rows.any()):
            return state
        if isinstance(state, torch.Tensor):
            shape = [1] * state.dim()
            shape[dim] = -1
            return state * (~rows).view(shape).to(state.dtype)
        return type(state)(self.reset_rows(s, rows) for s in state)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def build_model(name: str, options: dict[str, Any]) -> SequenceModel:
    """The model plugin `name` built from its settings (a dict, validated by its Config)."""
    cls = registry.load("model", name)
    config = cls.Config.from_dict(options)
    try:
        return cls(config)
    except MgenError:
        raise
    except Exception as e:  # noqa: BLE001 - torch layers reject impossible sizes in many ways
        raise ConfigError(
            f"model {name!r} cannot be built with these settings: {one_line(e)}"
        ) from None
