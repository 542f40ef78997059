"""A recurrent model written outside mgen: an Elman-style cell made of plain layers."""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from mgen.plugin import ModelConfig, SequenceModel


@dataclasses.dataclass
class ToyConfig(ModelConfig):
    width: int = 24


class ToyMLP(SequenceModel):
    """Toy recurrent MLP from the mgen-toy-plugin package."""

    Config = ToyConfig

    def __init__(self, config: ToyConfig):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.width)
        self.mix = nn.Linear(2 * config.width, config.width)
        self.head = nn.Linear(config.width, config.vocab_size)

    def forward(self, ids, state=None):
        h = self.init_state(ids.shape[0], ids.device) if state is None else state
        outs = []
        for x in self.embed(ids).unbind(1):  # [B, W] per step
            h = torch.tanh(self.mix(torch.cat([x, h], dim=-1)))
            outs.append(h)
        return self.head(torch.stack(outs, 1)), h

    def init_state(self, batch, device="cpu"):
        return torch.zeros(batch, self.config.width, device=device)
