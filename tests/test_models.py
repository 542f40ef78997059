"""Every registered model honours the contract: shapes, state carrying, and learning; the
recurrent models' fast paths (layer by layer, cell steps, fast dropout) match the plain ones."""

from __future__ import annotations

import pytest
import torch

from mgen.core.contracts import registry
from mgen.core.contracts.model import SequenceModel
from mgen.plugins.models.recurrent import GRU, LSTM2, LSTM2Config, RecurrentConfig, fast_dropout

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


@pytest.mark.parametrize(
    ("cls", "config"),
    [
        (LSTM2, LSTM2Config(vocab_size=40, hidden_size=24, embed_dim=8)),
        (GRU, RecurrentConfig(vocab_size=40, hidden_size=24, embed_dim=8, num_layers=3)),
    ],
)
def test_layer_by_layer_training_path_matches_the_fused_stack(cls, config):
    """Training with dropout between layers runs the stack one layer at a time (so the dropout
    can be fast); with dropout ~0 it must give nn.LSTM/nn.GRU's outputs, states and gradients."""
    torch.manual_seed(0)
    model = cls(config).train()
    x = torch.randint(0, 40, (3, 7))
    start = model.init_state(3)
    start = tuple(s.normal_() for s in start) if isinstance(start, tuple) else start.normal_()
    results = []
    for dropout in (1e-9, 0.0):  # 1e-9: the layer-by-layer path, keeping every unit
        model.rnn.dropout = model.drop.p = dropout
        model.zero_grad()
        logits, state = model(x, start)
        logits.square().sum().backward()
        state = state if isinstance(state, tuple) else (state,)
        results.append((logits, state, [p.grad.clone() for p in model.parameters()]))
    (a, sa, ga), (b, sb, gb) = results
    torch.testing.assert_close(a, b)
    for u, v in zip(sa + tuple(ga), sb + tuple(gb), strict=True):
        torch.testing.assert_close(u, v)


@pytest.mark.parametrize("cls", [LSTM2, GRU])
def test_small_batch_inference_step_matches_the_fused_stack(cls):
    """Sampling steps of small batches go through ATen's cell functions instead of oneDNN's
    fused call: same logits and state, up to float rounding."""
    torch.manual_seed(1)
    model = cls(cls.Config(vocab_size=30, hidden_size=20, embed_dim=6, num_layers=2)).eval()
    x = torch.randint(0, 30, (3, 1))
    with torch.inference_mode():
        _, state = model(torch.randint(0, 30, (3, 5)))  # primed through the fused stack
        logits, after = model(x, state)  # one small step: the cell path
        y, expected = model.rnn(model.embed(x), state)
        torch.testing.assert_close(logits, model.head(y))
        after = after if isinstance(after, tuple) else (after,)
        expected = expected if isinstance(expected, tuple) else (expected,)
        for u, v in zip(after, expected, strict=True):
            torch.testing.assert_close(u, v)


def test_fast_dropout_keeps_the_rate_and_the_mean():
    x = torch.ones(400, 1000)
    for p in (0.1, 0.5, 0.9):
        y = fast_dropout(x, p, training=True)
        assert abs(float((y == 0).float().mean()) - p) < 0.01
        assert abs(float(y.mean()) - 1.0) < 0.02
        values = torch.unique(y).tolist()  # dropped, or scaled up by 1 / (1 - p)
        assert len(values) == 2 and values[0] == 0 and values[1] == pytest.approx(1 / (1 - p))
    assert fast_dropout(x, 0.5, training=False) is x
    torch.manual_seed(3)
    first = fast_dropout(x, 0.5, True)
    torch.manual_seed(3)
    assert torch.equal(first, fast_dropout(x, 0.5, True))  # seeded like F.dropout
    g = torch.ones(50, 50, requires_grad=True)
    y = fast_dropout(g, 0.5, True)
    y.sum().backward()
    assert torch.equal(g.grad, (y.detach() != 0).float() * 2)  # gradient flows through kept units
