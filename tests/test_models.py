"""Every registered model honours the contract: shapes, state carrying, and learning."""

from __future__ import annotations

import pytest
import torch

from mgen.core import registry
from mgen.core.model import SequenceModel

MODELS = registry.names("model")


def _model(name: str, vocab: int = 11) -> SequenceModel:
    cls = registry.load("model", name)
    opts = {"vocab_size": vocab}
    for key, value in (("hidden_size", 16), ("embed_dim", 8)):
        if key in cls.Config.field_names():
            opts[key] = value
    torch.manual_seed(0)
    return cls(cls.Config.from_dict(opts))


@pytest.mark.parametrize("name", MODELS)
def test_forward_shapes(name):
    model = _model(name)
    logits, state = model(torch.randint(0, 11, (3, 7)))
    assert logits.shape == (3, 7, 11)
    assert state is not None


@pytest.mark.parametrize("name", MODELS)
def test_stepping_with_carried_state_equals_one_pass(name):
    """Sampling feeds one token at a time; that must equal running the whole sequence."""
    model = _model(name).eval()
    ids = torch.randint(0, 11, (2, 9))
    with torch.no_grad():
        full, _ = model(ids)
        state, steps = model.init_state(2), []
        for t in range(ids.shape[1]):
            out, state = model(ids[:, t : t + 1], state)
            steps.append(out)
    torch.testing.assert_close(torch.cat(steps, 1), full, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", MODELS)
def test_learns_a_repeating_pattern(name):
    model = _model(name, vocab=5)
    seq = torch.tensor([[1, 2, 3, 4] * 8])
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(60):
        logits, _ = model(seq[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), seq[:, 1:].flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.3


def test_lstm2_is_two_layers_with_half_dropout():
    model = _model("lstm2")
    assert model.config.num_layers == 2
    assert model.config.dropout == 0.5
    assert isinstance(model.rnn, torch.nn.LSTM) and model.rnn.dropout == 0.5
