"""Decoders: each turns logits[B, V] into next ids[B] with a seeded generator."""

from __future__ import annotations

import dataclasses
import math

import torch

from mgen.core.contracts.config import Config
from mgen.core.contracts.decoder import Decoder
from mgen.core.contracts.errors import ConfigError


@dataclasses.dataclass
class TemperatureOptions(Config):
    temperature: float = 1.0

    def validate(self) -> None:
        # Any finite positive number samples: below ~1e-30 it is the greedy choice (see
        # `_scaled`). inf and NaN are refused: they would make every probability NaN.
        if not (self.temperature > 0 and math.isfinite(self.temperature)):
            raise ConfigError(f"--temperature must be > 0 and finite, got {self.temperature}")


@dataclasses.dataclass
class TopKOptions(TemperatureOptions):
    top_k: int = 8

    def validate(self) -> None:
        super().validate()
        if self.top_k < 1:
            raise ConfigError(f"--top-k must be >= 1, got {self.top_k}")


@dataclasses.dataclass
class TopPOptions(TemperatureOptions):
    top_p: float = 0.9

    def validate(self) -> None:
        super().validate()
        if not 0.0 < self.top_p <= 1.0:  # NaN fails this too
            raise ConfigError(f"--top-p must be in (0, 1], got {self.top_p}")


#: The temperatures divided by, at most: float32 has no normal number below ~1.2e-38 or above
#: ~3.4e38, where `logits / t` overflows or t itself becomes inf. At 1e-30 logits 1e-28 apart
#: are already e^100 apart, so any smaller temperature picks the most likely token as this one
#: does; at 1e30 every allowed token is equally likely, as at any larger one.
MIN_TEMPERATURE, MAX_TEMPERATURE = 1e-30, 1e30


def _scaled(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """logits [B, V] / temperature, in float32, finite for every accepted temperature: the
    best logit is moved to 0 first, so a tiny temperature sends the others to -inf (never
    inf - inf = NaN)."""
    logits = logits.float()
    if temperature == 1.0:
        return logits
    top = logits.max(dim=-1, keepdim=True).values  # [B, 1]
    return (logits - top) / min(max(temperature, MIN_TEMPERATURE), MAX_TEMPERATURE)


def _draw(logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    probs = torch.softmax(logits.float(), dim=-1)  # [B, V]
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)  # [B]


class Argmax(Decoder):
    """Greedy: always the most likely next token."""

    def __call__(self, logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return logits.argmax(dim=-1)


class Multinomial(Decoder):
    """Sample from the model's full distribution."""

    def __call__(self, logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return _draw(logits, generator)


class Temperature(Decoder):
    """Sample after dividing logits by --temperature (<1 sharper, >1 more adventurous)."""

    Options = TemperatureOptions

    def __call__(self, logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return _draw(_scaled(logits, self.options.temperature), generator)


class TopK(Decoder):
    """Sample among the --top-k most likely tokens (with --temperature)."""

    Options = TopKOptions

    def __call__(self, logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        k = min(self.options.top_k, logits.shape[-1])
        kth = logits.topk(k, dim=-1).values[:, -1:]  # [B, 1]
        masked = logits.masked_fill(logits < kth, float("-inf"))
        return _draw(_scaled(masked, self.options.temperature), generator)


class TopP(Decoder):
    """Nucleus sampling: the smallest set of tokens whose probability reaches --top-p."""

    Options = TopPOptions

    def __call__(self, logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        scaled = _scaled(logits, self.options.temperature)
        sorted_logits, order = scaled.sort(dim=-1, descending=True)  # [B, V]
        probs = torch.softmax(sorted_logits, dim=-1)
        # Drop a token when the tokens before it already reach top_p. The first always stays,
        # also for a top_p that float32 rounds to 0 (1e-300 would otherwise drop them all).
        drop = (probs.cumsum(dim=-1) - probs) >= self.options.top_p
        drop[:, 0] = False
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        choice = _draw(sorted_logits, generator)  # index into the sorted order
        return order.gather(1, choice.unsqueeze(1)).squeeze(1)
