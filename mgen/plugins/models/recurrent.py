"""Embedding -> fused recurrent stack -> dropout -> linear: the seeds' models, one class each.

Whole sequences go through cuDNN/oneDNN-fused `nn.RNN`/`nn.LSTM`/`nn.GRU`; there is no per-step
Python loop in training. Sampling calls `forward` with T=1 and carries the returned state.
Two CPU paths compute the same thing faster (docs/performance.md): training with dropout between
layers runs the fused stack one layer at a time so the dropout can be `fast_dropout`, and single
steps of small batches use ATen's cell functions instead of a fused call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from mgen.core.contracts.errors import ConfigError
from mgen.core.contracts.model import ModelConfig, SequenceModel, State

#: Below this batch, single inference steps skip oneDNN's fused RNN (see `_cell_step`): its
#: fixed cost per call dominates small batches, its speed wins at large ones.
SMALL_BATCH = 16


def fast_dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Inverted dropout, as `F.dropout`, with masks from 16-bit random numbers (p rounded to
    1/65536). On CPU `bernoulli_` draws a 32-bit number per element, serially: a quarter of an
    lstm2 training step; four 16-bit draws per 64-bit number cost a fifth of that."""
    if not training or p == 0.0:
        return x
    if x.device.type != "cpu" or p >= 1.0:
        return F.dropout(x, p, training)  # GPUs draw masks fast already
    n = x.numel()
    bits = torch.randint(-(2**63), 2**63 - 1, ((n + 3) // 4,), dtype=torch.int64)
    uniform = bits.view(torch.int16)[:n].view(x.shape)  # n uniform numbers in [-2^15, 2^15)
    keep = (uniform >= round(p * 65536) - 32768).to(x.dtype).mul_(1.0 / (1.0 - p))
    return x * keep


def _aten_functions(rnn: nn.RNNBase) -> tuple[Callable, Callable]:
    """(whole sequence, one step) ATen functions computing what `rnn` computes, layer by layer."""
    if isinstance(rnn, nn.LSTM):
        return torch.lstm, torch.lstm_cell
    if isinstance(rnn, nn.GRU):
        return torch.gru, torch.gru_cell
    if rnn.nonlinearity == "relu":
        return torch.rnn_relu, torch.rnn_relu_cell
    return torch.rnn_tanh, torch.rnn_tanh_cell


@dataclasses.dataclass
class RecurrentConfig(ModelConfig):
    embed_dim: int = 128
    hidden_size: int = 256
    num_layers: int = 1
    dropout: float = 0.0  # between stacked layers and before the output layer
    embed_dropout: float = 0.0  # on the input embeddings, while training
    tie_weights: bool = False  # output layer shares the embedding (needs embed = hidden size)

    def validate(self) -> None:
        super().validate()
        for name in ("dropout", "embed_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if self.tie_weights and self.embed_dim != self.hidden_size:
            raise ConfigError(
                f"tie_weights needs embed_dim == hidden_size, got {self.embed_dim} and "
                f"{self.hidden_size}"
            )


class RecurrentLM(SequenceModel):
    """Shared body of the recurrent language models; subclasses pick the cell and defaults."""

    cell: ClassVar[type[nn.RNNBase]] = nn.LSTM
    state_batch_dim: ClassVar[int | None] = 1  # h (and c): [layers, B, hidden]
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
        if c.tie_weights:
            self.head.weight = self.embed.weight  # one [V, E] matrix reads and writes tokens

    def forward(self, ids: torch.Tensor, state: State = None) -> tuple[torch.Tensor, State]:
        rnn, on_cpu = self.rnn, ids.device.type == "cpu"
        if self.training and rnn.dropout > 0 and rnn.num_layers > 1 and on_cpu:
            return self._layer_by_layer(ids, state)
        x = self._embed(ids)  # [B, T] -> [B, T, E]
        if not self.training and x.shape[1] == 1 and x.shape[0] < SMALL_BATCH and on_cpu:
            y, state = self._cell_step(x, state)
        else:
            y, state = rnn(x, state)  # [B, T, H]; state: h (and c) [L, B, H]
        return self.head(fast_dropout(y, self.drop.p, self.training)), state  # [B, T, V]

    def _embed(self, ids: torch.Tensor) -> torch.Tensor:
        return fast_dropout(self.embed(ids), self.config.embed_dropout, self.training)

    def _weights(self, layer: int) -> list[torch.Tensor]:
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        return [getattr(self.rnn, f"{name}_l{layer}") for name in names]

    def _cell_step(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """One time step [B, 1, E] of a small batch through ATen's cell functions: the same
        computation as `self.rnn(x, state)` without oneDNN's set-up of a fused RNN call, which
        costs ten times the step itself at batch 1."""
        if state is None:
            state = self.init_state(x.shape[0], x.device)
        parts = state if isinstance(state, tuple) else (state,)  # each [L, B, H]
        cell = _aten_functions(self.rnn)[1]
        h, finals = x[:, 0], []
        for i in range(self.rnn.num_layers):
            hx = tuple(p[i] for p in parts)  # [B, H] each
            out = cell(h, hx if len(hx) > 1 else hx[0], *self._weights(i))
            out = out if isinstance(out, tuple) else (out,)
            h = out[0]
            finals.append(out)
        state = tuple(torch.stack(f) for f in zip(*finals, strict=True))  # [L, B, H] each
        return h[:, None], state if len(state) > 1 else state[0]

    def _layer_by_layer(self, ids: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """Training: the stack one fused layer at a time, so that the dropout between layers can
        be `fast_dropout`; the same computation as `forward` through `self.rnn`. Time-major
        inside, as the fused layers work: batch-first would copy in and out of every layer."""
        rnn, layers = self.rnn, self.rnn.num_layers
        x = self._embed(ids.t())  # [T, B, E]
        if state is None:
            state = self.init_state(ids.shape[0], ids.device)
        parts = state if isinstance(state, tuple) else (state,)  # each [L, B, H]
        fused = _aten_functions(rnn)[0]
        finals = []
        for i in range(layers):
            if i:
                x = fast_dropout(x, rnn.dropout, True)
            hx = tuple(p[i : i + 1] for p in parts)  # [1, B, H] each
            # (input, hx, weights, biases, layers, dropout, train, bidirectional, batch_first)
            x, *final = fused(
                x, hx if len(hx) > 1 else hx[0], self._weights(i), True, 1, 0.0, True, False, False
            )  # x: [T, B, H]
            finals.append(final)
        state = tuple(torch.cat(f) for f in zip(*finals, strict=True))  # back to [L, B, H] each
        logits = self.head(fast_dropout(x, self.drop.p, True))  # [T, B, V]
        return logits.transpose(0, 1), state if len(state) > 1 else state[0]  # [B, T, V] view

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
