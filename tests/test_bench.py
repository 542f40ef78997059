"""`mgen bench` and the speed work behind it: the bench runs every section (no timing
assertions), and the faster code paths compute what the plain ones do."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from mgen.core import registry
from mgen.core.data import load_corpus
from mgen.plugins.models.recurrent import GRU, LSTM2, LSTM2Config, RecurrentConfig, fast_dropout

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

#: One row every section must print, as (section, part of the measurement's name).
EXPECTED = [
    ("machine", "processor"),
    ("machine", "mgen's fastest setting"),
    ("peak", "fp32 measured peak"),
    ("peak", "bf16 measured peak"),
    ("preprocess", "folk-abc (abc-char) first parse"),
    ("preprocess", "folk-abc (abc-char) cached start"),
    ("train", "rnn fp32"),
    ("train", "lstm fp32"),
    ("train", "seed-002 fp32"),
    ("train", "lstm2 plain-fp32"),
    ("train", "lstm2 plain-fp32 validation loss"),
    ("train", "lstm2 batch building"),
    ("sample", "lstm2 batch 1, carried state"),
    ("sample", "lstm2 64 concurrent samples"),
    ("sample", "window re-run per token"),
    ("memory", "peak RSS"),
    ("threads", "PASSIVE, alone"),
    ("threads", "ACTIVE, beside a busy process"),
]


@pytest.mark.slow
def test_quick_bench_prints_every_section(cli, tmp_path: Path):
    out = tmp_path / "bench.json"
    shared = SHARED_DATA if SHARED_DATA.is_dir() else tmp_path / "absent"
    result = cli("bench", "--quick", "--shared-data", shared, "--json", out)
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())
    table = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert len(table) == len(rows) + 1  # the header, then one line per row
    for section, item in EXPECTED:
        assert any(r["section"] == section and item in r["item"] for r in rows), (section, item)
    # Every figure is a positive number with its unit (no timing thresholds).
    for r in rows:
        if r["section"] in ("peak", "train", "sample", "memory", "threads"):
            number = re.match(r"[\d,.]+", r["value"])
            assert number and float(number.group().replace(",", "")) > 0, r
    if SHARED_DATA.is_dir():
        assert any("essen-deutschl-kern" in r["item"] for r in rows)
        assert any("piano-midi" in r["item"] for r in rows)


def test_bench_rejects_unknown_section(cli):
    result = cli("bench", "--quick", "--section", "nope")
    assert result.exit_code != 0
    assert "unknown section" in result.stderr


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


def test_cached_corpus_is_compact_memory_mapped_and_follows_edits(abc_folder: Path, tmp_path):
    tok = registry.load("tokenizer", "abc-char")()
    files = sorted(abc_folder.glob("*.abc"))
    first = load_corpus(tok, files, progress=False)
    again = load_corpus(tok, files, progress=False)
    assert not first.from_cache and again.from_cache
    assert again.ids.dtype == np.uint16 and isinstance(again.ids, np.memmap)
    assert again.tokens == first.tokens and np.array_equal(again.ids, first.ids)
    # A copy with one tune removed: different contents, so a fresh parse.
    edited = tmp_path / "edited"
    edited.mkdir()
    text = files[0].read_text(encoding="latin-1")
    (edited / files[0].name).write_text(text[: text.rindex("\nX:")], encoding="latin-1")
    changed = load_corpus(tok, [edited / files[0].name], progress=False)
    assert not changed.from_cache and len(changed) == len(first) - 1
    # Editing that file in place (same path) is noticed too.
    shutil.copy(files[0], edited / files[0].name)
    restored = load_corpus(tok, [edited / files[0].name], progress=False)
    assert len(restored) == len(first) and np.array_equal(restored.ids, first.ids)
