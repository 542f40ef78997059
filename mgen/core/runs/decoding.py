"""A run's chosen decoding: the decoder and options `mgen sample --run NAME` uses when it is
given none, saved once in config.json ("decoding") by whoever measured it
(`tools/decoding_sweep.py --save`: the setting that makes samples hardest to tell from the
corpus without getting stuck or looping; docs/quality.md).

A run without one samples as mgen always has: the temperature decoder at temperature 1."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mgen.core.contracts.config import Config
from mgen.core.contracts.errors import ConfigError

#: config.json's key for it.
KEY = "decoding"


@dataclass
class Decoding(Config):
    """The decoder plugin, its options, the grammar's rules (mgen.core.contracts.grammar:
    `Grammar.RULES`), the guidance of asked controls (mgen.core.sampling.guidance; 1: none),
    and how they were chosen (a sentence, for the card)."""

    decoder: str = "temperature"
    options: dict[str, Any] = field(default_factory=dict)
    rules: list[str] = field(default_factory=list)
    guidance: float = 1.0
    chosen_by: str = ""

    def validate(self) -> None:
        if not self.decoder:
            raise ConfigError("decoding: the decoder's name must not be empty")
        check_guidance(self.guidance)

    def describe(self) -> str:
        """'top-p (top_p=0.95)', for messages and cards."""
        shown = ", ".join(f"{k}={v}" for k, v in sorted(self.options.items()))
        text = f"{self.decoder} ({shown})" if shown else self.decoder
        text += "".join(f" + {r}" for r in self.rules)
        return text + (f", guidance {self.guidance:g}" if self.guidance != 1 else "")


def chosen(config: dict[str, Any]) -> Decoding:
    """The decoding a run's config.json saved, or the default (temperature 1)."""
    return Decoding.from_dict(config.get(KEY) or {})


def resolve_rules(config: dict[str, Any], rules: list[str] | None) -> list[str]:
    """The grammar's rules to sample with: those given (an empty list: none), else the run's
    chosen ones, whatever the decoder (a rule is the music's, not the decoder's)."""
    return list(rules) if rules is not None else chosen(config).rules


def check_guidance(scale: float) -> None:
    """ConfigError for a guidance scale that is not a positive number."""
    if not isinstance(scale, (int, float)) or isinstance(scale, bool) or not 0 < scale <= 10:
        raise ConfigError(f"--guidance must be a number in (0, 10] (1: none), got {scale!r}")


def resolve_guidance(config: dict[str, Any], guidance: float | None) -> float:
    """The guidance to sample asked controls with: the one given, else the run's chosen one."""
    if guidance is None:
        return chosen(config).guidance
    check_guidance(guidance)
    return float(guidance)


def resolve(
    config: dict[str, Any], decoder: str | None, options: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The decoder and options to sample with. A decoder named, or any option given, is the
    caller's choice (no decoder named: temperature, as before runs saved one); neither: the
    run's chosen decoding."""
    given = {k: v for k, v in options.items() if v is not None}
    if decoder is not None:
        return decoder, given
    if given:
        return "temperature", given
    saved = chosen(config)
    return saved.decoder, dict(saved.options)
