"""Every component's typed config round-trips through a plain dict, and rejects bad input."""

from __future__ import annotations

import json

import pytest

from mgen.core.contracts import registry
from mgen.core.contracts.errors import ConfigError
from mgen.core.sampling.engine import RepetitionConfig
from mgen.core.training.train_config import TrainConfig


def _configs():
    for kind, attr in (("tokenizer", "Config"), ("model", "Config"), ("decoder", "Options")):
        for name in registry.names(kind):
            try:
                cls = registry.load(kind, name)
            except Exception:  # noqa: BLE001 - broken third-party plugins are tested elsewhere
                continue
            yield pytest.param(getattr(cls, attr), id=f"{kind}-{name}")
    yield pytest.param(TrainConfig, id="train")
    yield pytest.param(RepetitionConfig, id="repetition")


@pytest.mark.parametrize("config_cls", list(_configs()))
def test_round_trip_through_json(config_cls):
    original = config_cls()
    data = json.loads(json.dumps(original.to_dict()))
    assert config_cls.from_dict(data) == original


@pytest.mark.parametrize("config_cls", list(_configs()))
def test_unknown_key_lists_valid_ones(config_cls):
    with pytest.raises(ConfigError, match="unknown setting"):
        config_cls.from_dict({"no_such_setting": 1})


def test_train_config_keeps_non_defaults():
    cfg = TrainConfig(model="gru", epochs=3, data=["a", "b"], model_options={"hidden_size": 9})
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


@pytest.mark.parametrize(
    "bad",
    [{"batch_size": 0}, {"seq_len": -1}, {"lr": 0.0}, {"max_steps": 0}, {"val_fraction": 1.0}],
)
def test_train_config_rejects_impossible_values(bad):
    with pytest.raises(ConfigError):
        TrainConfig.from_dict(bad)
