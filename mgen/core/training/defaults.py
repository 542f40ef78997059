"""A tokenizer's training defaults (its `Recipe`) applied to a run's settings, in one function.

`mgen train` leaves the length, the window and the batching to the tokenizer unless told: no
--epochs/--max-steps/--time-budget, `--seq-len 0`, `--batching auto`. `resolve` fills each from the
recipe, once, and everything after it (the data, the trainer, config.json, `--resume`) reads the
resolved settings. The recipe's corpus facts (its dataset, how the split groups pieces) belong to
the corpus, which `mgen eval` reads without a training config: `mgen.core.data.prepare` applies
them where it reads and splits the files.
"""

from __future__ import annotations

import dataclasses

from mgen.core.contracts.tokenizer import Tokenizer
from mgen.core.training.train_config import TrainConfig

#: The settings `resolve` fills, and the value that leaves each to the recipe.
FROM_RECIPE = {"seq_len": 0, "batching": "auto"}


def resolve(cfg: TrainConfig, tok: Tokenizer, *, carries_state: bool = True) -> TrainConfig:
    """`cfg` with what it leaves to the tokenizer taken from `tok.recipe`: no length -> the
    recipe's time budget; `seq_len` 0 -> its window; `batching` auto -> its batching, or
    windows when the model cannot carry its state (`carries_state` False: then nothing is
    carried whatever was asked). Settings already given are kept, so resolving twice is once."""
    recipe = tok.recipe
    length = {} if cfg.has_length() else {"time_budget": recipe.time_budget}
    batching = recipe.batching if cfg.batching == "auto" else cfg.batching
    return dataclasses.replace(
        cfg,
        **length,
        seq_len=cfg.seq_len or recipe.seq_len,
        batching=batching if carries_state else "windows",
    )


def default_length(cfg: TrainConfig, resolved: TrainConfig) -> str | None:
    """What to tell the user when the length came from the recipe (`cfg` as given)."""
    if cfg.has_length():
        return None
    return (
        f"no --epochs/--max-steps/--time-budget given: training for "
        f"{(resolved.time_budget or 0) / 60:g} min ({resolved.tokenizer}'s default)"
    )
