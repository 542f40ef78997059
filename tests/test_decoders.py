"""Every registered decoder picks valid ids, reproducibly from the seed, and honours its options."""

from __future__ import annotations

import pytest
import torch

from mgen.core.contracts import registry
from mgen.core.contracts.errors import ConfigError, PluginError


def _working(kind: str) -> list[str]:
    out = []
    for name in registry.names(kind):
        try:
            registry.load(kind, name)
        except PluginError:
            continue
        out.append(name)
    return out


DECODERS = _working("decoder")


def _decode(name: str, logits: torch.Tensor, seed: int, **opts) -> torch.Tensor:
    cls = registry.load("decoder", name)
    dec = cls(cls.Options.from_dict(opts))
    return dec(logits, torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", DECODERS)
def test_valid_ids_and_same_seed_same_choice(name):
    logits = torch.randn(16, 30, generator=torch.Generator().manual_seed(1))
    a, b = _decode(name, logits, 7), _decode(name, logits, 7)
    assert a.shape == (16,) and a.dtype == torch.long
    assert bool(((a >= 0) & (a < 30)).all())
    assert torch.equal(a, b)


@pytest.mark.parametrize("name", DECODERS)
def test_a_certain_distribution_gives_its_token(name):
    logits = torch.full((4, 10), -30.0)
    logits[:, 6] = 30.0
    assert torch.equal(_decode(name, logits, 0), torch.full((4,), 6))


def test_argmax_is_greedy():
    logits = torch.tensor([[0.1, 2.0, 0.3], [5.0, 0.0, 4.9]])
    assert _decode("argmax", logits, 0).tolist() == [1, 0]


def test_top_k_never_leaves_the_k_best():
    logits = torch.randn(1, 50).repeat(500, 1)
    best = set(logits[0].topk(3).indices.tolist())
    assert set(_decode("top-k", logits, 0, top_k=3).tolist()) <= best


def test_top_p_keeps_the_nucleus():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]])).repeat(400, 1)
    assert set(_decode("top-p", logits, 0, top_p=0.75).tolist()) == {0, 1}


def test_low_temperature_concentrates():
    logits = torch.tensor([[1.0, 0.0, 0.0]]).repeat(300, 1)
    hot = (_decode("temperature", logits, 0, temperature=5.0) == 0).float().mean()
    cold = (_decode("temperature", logits, 0, temperature=0.1) == 0).float().mean()
    assert cold > 0.99 > hot


@pytest.mark.parametrize("opts", [{"temperature": 0}, {"temperature": -1.0}])
def test_rejects_bad_temperature(opts):
    cls = registry.load("decoder", "temperature")
    with pytest.raises(ConfigError):
        cls.Options.from_dict(opts)


@pytest.mark.parametrize("top_p", [0.0, 1.5])
def test_rejects_bad_top_p(top_p):
    with pytest.raises(ConfigError):
        registry.load("decoder", "top-p").Options.from_dict({"top_p": top_p})
