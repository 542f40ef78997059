"""The decoder contract: choose next ids[B] from logits[B,V] with a seeded generator."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import torch

from mgen.core.config import Config


class Decoder(ABC):
    """Base class for decoder plugins. `Options` is a Config dataclass of the decoder's settings."""

    description: ClassVar[str] = ""
    Options: ClassVar[type[Config]] = Config

    def __init__(self, options: Config | None = None):
        self.options = options if options is not None else type(self).Options()

    @abstractmethod
    def __call__(self, logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """logits: [B, V] float. Returns ids: [B] long."""
