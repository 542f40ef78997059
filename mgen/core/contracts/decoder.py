"""The decoder contract: choose next ids[B] from logits[B,V] with a seeded generator."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import torch

from mgen.core.contracts.config import Config
from mgen.core.contracts.errors import ConfigError


class Decoder(ABC):
    """Base class for decoder plugins. `Options` is a Config dataclass of the decoder's settings."""

    description: ClassVar[str] = ""
    Options: ClassVar[type[Config]] = Config

    def __init__(self, options: Config | None = None):
        self.options = options if options is not None else type(self).Options()

    @abstractmethod
    def __call__(self, logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """logits: [B, V] float. Returns ids: [B] long."""


def build_decoder(name: str, options: dict[str, Any] | None = None) -> Decoder:
    """The decoder plugin `name` with `options`; an option it does not take is an error
    (e.g. --top-k given to `temperature`), so a typo never passes silently."""
    from mgen.core.contracts import registry

    cls = registry.load("decoder", name)
    given = {k: v for k, v in (options or {}).items() if v is not None}
    ignored = [k for k in given if k not in cls.Options.field_names()]
    if ignored:
        flags = ", ".join("--" + k.replace("_", "-") for k in ignored)
        raise ConfigError(f"decoder {name!r} does not take {flags}")
    return cls(cls.Options.from_dict(given))
