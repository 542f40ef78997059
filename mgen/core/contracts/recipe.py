"""A tokenizer's training defaults in one object: what `mgen train` does when the user says nothing.

Applied in one function (`mgen.core.training.defaults`); `mgen train --help` prints them from here,
so the help cannot go stale.
"""

from __future__ import annotations

import dataclasses

from mgen.core.contracts.config import Config
from mgen.core.contracts.errors import ConfigError

BATCHINGS = ("lanes", "piece-lanes")
SPLITS = ("file", "piece")


@dataclasses.dataclass
class Recipe(Config):
    """Training defaults of one tokenizer (all optional for a plugin: these are the defaults)."""

    #: The dataset (entry-point group `mgen.datasets`) trained on without --data; None: --data needed.
    dataset: str | None = None
    #: Seconds of training when the user gives no length (--epochs, --max-steps, --time-budget).
    time_budget: float = 300.0
    #: `--batching auto`: "lanes" (the state carried across pieces) or "piece-lanes" (each piece read
    #: from the empty state), whichever trained better for the format (docs/training.md).
    batching: str = "lanes"
    #: `--seq-len 0` (the default): tokens per training window.
    seq_len: int = 64
    #: How the random validation split groups pieces: "file" keeps a file's pieces on one side
    #: (the voices of a score), "piece" splits a file's pieces (independent tunes).
    split_by: str = "file"

    def validate(self) -> None:
        if self.batching not in BATCHINGS:
            raise ConfigError(
                f"recipe batching must be one of {', '.join(BATCHINGS)}, got {self.batching!r}"
            )
        if self.split_by not in SPLITS:
            raise ConfigError(
                f"recipe split_by must be one of {', '.join(SPLITS)}, got {self.split_by!r}"
            )
        if not self.time_budget > 0 or not self.seq_len >= 2:
            raise ConfigError("recipe time_budget must be > 0 and seq_len >= 2")
