"""Fine-tuning (`mgen train --init RUN`): a new run that starts from a trained run (a directory
or a shipped model's name) with its tokenizer, its vocabulary (fixed: tokens it lacks read as
<unk>, counted in the log) and its weights."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from mgen.core.runs import pretrained, rundir
from mgen.core.contracts.errors import CheckpointError, ConfigError
from mgen.core.contracts.model import SequenceModel, build_model
from mgen.core.contracts.tokenizer import Tokenizer
from mgen.core.training.train_config import TrainConfig


def init_config(cfg: TrainConfig, log: Callable[[str], None]) -> TrainConfig:
    """`cfg` with the init run's tokenizer (and its settings) and model (and its sizes; the
    given model options, e.g. dropout, win)."""
    assert cfg.init is not None
    init = pretrained.resolve_run(cfg.init)
    config = rundir.read_config(init)
    if cfg.tokenizer_options:
        raise ConfigError("--tokenizer-option cannot change --init's tokenizer: it is fixed")
    try:
        sizes = {k: v for k, v in config["model_config"].items() if k != "vocab_size"}
        tokenizer, model = str(config["tokenizer"]), str(config["model"])
    except (KeyError, AttributeError) as e:
        raise CheckpointError(f"{init / rundir.CONFIG} lacks {e}") from None
    settings = config.get("train", {}).get("tokenizer_options", {})
    name = pretrained.shipped_name(init) or str(init)
    log(f"fine-tuning {name}: its {tokenizer} tokenizer (vocabulary fixed) and {model} weights")
    return dataclasses.replace(
        cfg, init=name, tokenizer=tokenizer, model=model, tokenizer_options=dict(settings),
        model_options={**sizes, **cfg.model_options},
    )  # fmt: skip


def init_tokenizer(cfg: TrainConfig) -> Tokenizer:
    """The init run's tokenizer, with its vocabulary."""
    assert cfg.init is not None
    return rundir.load_tokenizer(pretrained.resolve_run(cfg.init))[1]


def init_model(cfg: TrainConfig, vocab_size: int) -> SequenceModel:
    """The model `cfg` describes, holding the init run's best weights."""
    assert cfg.init is not None
    model = build_model(cfg.model, {**cfg.model_options, "vocab_size": vocab_size})
    rundir.load_weights(pretrained.resolve_run(cfg.init), model)
    return model
