"""Min-p sampling: keep tokens whose probability is at least min_p times the top one."""

from __future__ import annotations

import dataclasses

import torch

from mgen.plugin import Config, Decoder


@dataclasses.dataclass
class MinPOptions(Config):
    temperature: float = 1.0
    min_p: float = 0.1


class MinP(Decoder):
    """Min-p sampling from the mgen-toy-plugin package."""

    Options = MinPOptions

    def __call__(self, logits, generator):
        probs = torch.softmax(logits.float() / self.options.temperature, dim=-1)
        keep = probs >= self.options.min_p * probs.max(dim=-1, keepdim=True).values
        probs = torch.where(keep, probs, torch.zeros_like(probs))
        return torch.multinomial(probs, 1, generator=generator).squeeze(1)
