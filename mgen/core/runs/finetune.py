"""Fine-tuning (`mgen train --init RUN`): a new run that starts from a trained run (a directory
or a shipped model's name) with its tokenizer, its vocabulary (fixed: tokens it lacks read as
<unk>, counted in the log) and its weights. What it takes over is `RunDir.start`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from mgen.core.contracts.errors import ConfigError
from mgen.core.contracts.model import SequenceModel, build_model
from mgen.core.contracts.tokenizer import Tokenizer
from mgen.core.runs.artifact import RunDir
from mgen.core.training.train_config import TrainConfig


def init_config(cfg: TrainConfig, log: Callable[[str], None]) -> TrainConfig:
    """`cfg` with the init run's tokenizer (and its settings) and model (and its sizes; the
    given model options, e.g. dropout, win)."""
    assert cfg.init is not None
    run = RunDir.resolve(cfg.init)
    if cfg.tokenizer_options:
        raise ConfigError("--tokenizer-option cannot change --init's tokenizer: it is fixed")
    start = run.start()
    log(f"fine-tuning {start.name}: its {start.tokenizer} tokenizer (vocabulary fixed) and "
        f"{start.model} weights")  # fmt: skip
    return dataclasses.replace(
        cfg, init=start.name, tokenizer=start.tokenizer, model=start.model,
        tokenizer_options=dict(start.tokenizer_options),
        model_options={**start.model_sizes, **cfg.model_options},
    )  # fmt: skip


def init_tokenizer(cfg: TrainConfig) -> Tokenizer:
    """The init run's tokenizer, with its vocabulary."""
    assert cfg.init is not None
    return RunDir.resolve(cfg.init).load_tokenizer()


def init_model(cfg: TrainConfig, vocab_size: int) -> SequenceModel:
    """The model `cfg` describes, holding the init run's best weights."""
    assert cfg.init is not None
    model = build_model(cfg.model, {**cfg.model_options, "vocab_size": vocab_size})
    RunDir.resolve(cfg.init).load_weights(model)
    return model
