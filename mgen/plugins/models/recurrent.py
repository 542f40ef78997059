"""Embedding -> fused recurrent stack -> dropout -> linear: the seeds' models, one class each.

Whole sequences go through cuDNN/oneDNN-fused `nn.RNN`/`nn.LSTM`/`nn.GRU`; there is no per-step
Python loop in training. Sampling calls `forward` with T=1 and carries the returned state.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import torch
from torch import nn

from mgen.core.model import ModelConfig, SequenceModel, State


@dataclasses.dataclass
class RecurrentConfig(ModelConfig):
    embed_dim: int = 128
    hidden_size: int = 256
    num_layers: int = 1
    dropout: float = 0.0  # between stacked layers and before the output layer


class RecurrentLM(SequenceModel):
    """Shared body of the recurrent language models; subclasses pick the cell and defaults."""

    cell: ClassVar[type[nn.RNNBase]] = nn.LSTM
    Config: ClassVar[type[ModelConfig]] = RecurrentConfig

    def __init__(self, config: RecurrentConfig):
        super().__init__(config)
        c = config
        self.embed = nn.Embedding(c.vocab_size, c.embed_dim)
        self.rnn = self.cell(
            c.embed_dim,
            c.hidden_size,
            num_layers=c.num_layers,
            batch_first=True,
            dropout=c.dropout if c.num_layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(c.dropout)
        self.head = nn.Linear(c.hidden_size, c.vocab_size)

    def forward(self, ids: torch.Tensor, state: State = None) -> tuple[torch.Tensor, State]:
        x = self.embed(ids)  # [B, T] -> [B, T, E]
        y, state = self.rnn(x, state)  # [B, T, H]; state: h (and c) [L, B, H]
        return self.head(self.drop(y)), state  # [B, T, V]

    def init_state(self, batch: int, device: torch.device | str = "cpu") -> State:
        c = self.config
        h = torch.zeros(c.num_layers, batch, c.hidden_size, device=device)
        return (h, torch.zeros_like(h)) if self.cell is nn.LSTM else h


@dataclasses.dataclass
class LSTM2Config(RecurrentConfig):
    num_layers: int = 2
    dropout: float = 0.5


class RNN(RecurrentLM):
    """Plain tanh RNN, one layer."""

    cell = nn.RNN


class LSTM(RecurrentLM):
    """One LSTM layer."""

    cell = nn.LSTM


class LSTM2(RecurrentLM):
    """Two stacked LSTM layers with dropout 0.5 between them and before the output."""

    cell = nn.LSTM
    Config = LSTM2Config


class GRU(RecurrentLM):
    """One GRU layer."""

    cell = nn.GRU
