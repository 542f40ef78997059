"""The transformer plugin: its key/value cache gives the logits of one full pass (sliding past
`context`), it trains, samples and resumes exactly through the CLI, and two gloo processes
train it like one."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import TINY, assert_one_line_error

from mgen.core.contracts.errors import ConfigError
from mgen.core.contracts.model import build_model
from mgen.core.runs import rundir
from mgen.core.training import history
from mgen.core.training.device import autocast
from mgen.plugins.models.transformer import Transformer, TransformerConfig, attention_mask

MODEL = ["--model", "transformer", "-M", "heads=2", "-M", "context=24"]


def _model(context: int = 6, layers: int = 2, dropout: float = 0.0) -> Transformer:
    torch.manual_seed(0)
    config = TransformerConfig(vocab_size=13, embed_dim=16, heads=4, num_layers=layers,
                               context=context, dropout=dropout)  # fmt: skip
    return Transformer(config).eval()


def _brute_force(model: Transformer, ids: torch.Tensor) -> torch.Tensor:
    """Logits of one pass computed the slow way: attention over a hand-built sliding mask."""
    import mgen.plugins.models.transformer as tf

    t, context = ids.shape[1], model.config.context
    band = [[i - context < j <= i for j in range(t)] for i in range(t)]
    mask = torch.tensor(band)
    original = tf.attention_mask
    tf.attention_mask = lambda *_: mask  # every call takes the explicit-mask path
    try:
        return model(ids)[0]
    finally:
        tf.attention_mask = original


@pytest.mark.parametrize("context", [5, 64])
def test_cache_steps_and_chunks_equal_one_full_pass(context):
    """Token by token with the cache, or in chunks, gives the full pass's logits to 1e-5 (fp32),
    also past `context`, where the cache slides."""
    model, ids = _model(context), torch.randint(0, 13, (3, 40))
    with torch.no_grad():
        full, _ = model(ids)
        torch.testing.assert_close(full, _brute_force(model, ids), rtol=0, atol=1e-5)
        for size in (1, 7):
            state, outs = model.init_state(3), []
            for t in range(0, ids.shape[1], size):
                out, state = model(ids[:, t : t + size], state)
                outs.append(out)
            torch.testing.assert_close(torch.cat(outs, 1), full, rtol=0, atol=1e-5)
            assert state[1][0][0].shape == (3, 4, min(40, context - 1), 4)  # the last context - 1


def test_a_slid_cache_depends_on_relative_positions_only():
    """Rotary positions: 200 tokens after a piece's start, a step from the cache equals a fresh
    pass over the same recent tokens when the earlier ones are out of every layer's reach."""
    model = _model(context=4, layers=1)
    ids = torch.randint(0, 13, (2, 200))
    with torch.no_grad():
        _, state = model(ids[:, :-1])
        assert state[1][0][0].shape[2] == 3  # the cache slid along, keeping context - 1
        step, _ = model(ids[:, -1:], state)
        fresh, _ = model(ids[:, -4:])
    torch.testing.assert_close(step[:, 0], fresh[:, -1], rtol=0, atol=1e-5)


def test_attention_mask_is_plain_causal_only_when_nothing_is_out_of_reach():
    cpu = torch.device("cpu")
    assert attention_mask(5, 0, 5, None, cpu) is None
    assert attention_mask(1, 4, 5, None, cpu) is None
    mask = attention_mask(2, 4, 3, None, cpu)  # queries at 4 and 5 see 2..4 and 3..5
    assert mask.tolist() == [[False, False, True, True, True, False],
                             [False, False, False, True, True, True]]  # fmt: skip


@pytest.mark.parametrize("context", [4, 64])
def test_a_reset_row_reads_on_as_if_its_cache_were_empty(context):
    """Training empties the state of a row whose window opens a piece (`reset_rows`): that row
    then gives a fresh pass's logits, the other row those of its carried cache."""
    model, ids = _model(context), torch.randint(0, 13, (2, 30))
    with torch.no_grad():
        _, state = model(ids[:, :20])
        state = model.reset_rows(state, torch.tensor([True, False]))
        out, state = model(ids[:, 20:25], state)
        out2, _ = model(ids[:, 25:], state)
        fresh, _ = model(ids[:1, 20:])
        full, _ = model(ids[1:])
    torch.testing.assert_close(torch.cat([out, out2], 1)[0], fresh[0], rtol=0, atol=1e-5)
    torch.testing.assert_close(torch.cat([out, out2], 1)[1], full[0, 20:], rtol=0, atol=1e-5)


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_autocast_forward_and_cached_step(precision):
    model = _model()
    ids = torch.randint(0, 13, (2, 9))
    with torch.no_grad(), autocast(torch.device("cpu"), precision):
        full, state = model(ids)
        step, _ = model(ids[:, :1], state)
    assert full.shape == (2, 9, 13) and step.shape == (2, 1, 13)
    assert torch.isfinite(full).all() and torch.isfinite(step).all()


def test_settings_are_checked():
    with pytest.raises(ConfigError, match="heads .3. must divide embed_dim .16."):
        build_model("transformer", {"vocab_size": 5, "embed_dim": 16, "heads": 3})
    with pytest.raises(ConfigError, match="even head size"):
        build_model("transformer", {"vocab_size": 5, "embed_dim": 12, "heads": 4})
    with pytest.raises(ConfigError, match="context must be >= 1"):
        build_model("transformer", {"vocab_size": 5, "context": 0})
    model = build_model("transformer", {"vocab_size": 5, "embed_dim": 16, "heads": 2})
    assert not any(n.startswith("head") for n, _ in model.named_parameters())  # tied: embed


def test_cli_refuses_heads_that_do_not_divide_the_embedding(cli, abc_folder, tmp_path):
    result = cli("train", "--data", abc_folder, "--out", tmp_path / "r", *TINY,
                 "--model", "transformer", "-M", "heads=3")  # fmt: skip
    assert_one_line_error(result.exit_code, result.output, "heads (3) must divide embed_dim (16)")


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return rundir.load_checkpoint(run)["model"]


def test_train_sample_past_the_context_resume_and_eval(cli, abc_folder, tmp_path):
    """Lanes with the cache carried, dropout on: a run stopped at step 3 and resumed to 8 ends
    with the weights of a straight run to 8. Samples run past the context (the cache slides);
    `mgen eval --run` scores held-out files."""
    args = [*TINY, *MODEL, "-M", "dropout=0.1", "--precision", "fp32", "--checkpoint-every", "3"]
    straight, split = tmp_path / "straight", tmp_path / "split"
    for run, steps in ((straight, 8), (split, 3)):
        r = cli("train", "--data", abc_folder, "--out", run, *args, "--max-steps", steps)
        assert r.exit_code == 0, r.output
    r = cli("train", "--resume", "--out", split, "--max-steps", 8, "--quiet")
    assert r.exit_code == 0, r.output
    a, b = _weights(straight), _weights(split)
    assert rundir.load_checkpoint(split)["progress"]["step"] == 8
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert (split / "model.safetensors").exists()
    r = cli("sample", "--run", split, "-n", "100", "-k", "2", "--decoder", "multinomial",
            "--out", tmp_path / "s")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert len(list((tmp_path / "s").glob("sample-*.abc"))) == 2
    r = cli("eval", "--run", split, "--data", abc_folder)
    assert r.exit_code == 0, r.output
    assert "bits/token" in r.stdout


@pytest.mark.slow
def test_two_gloo_processes_train_the_transformer_like_one(abc_folder, tmp_path):
    """DDP on lanes with each rank carrying its own lanes' caches: the same weights as one
    process computing the whole batch (float reduction order aside). No dropout: ranks draw
    their own masks, so with dropout the runs differ by design."""
    args = ["--data", str(abc_folder), *TINY, *MODEL, "-M", "dropout=0", "--precision", "fp32",
            "--lr", "0.01", "--max-steps", "6"]  # fmt: skip
    single, double = tmp_path / "one", tmp_path / "two"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # torchrun's own default for CPU workers
    cmd = [sys.executable, "-m", "mgen", "train", *args, "--out"]
    subprocess.run([*cmd, str(single)], env=env, check=True, capture_output=True, timeout=300)
    run = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "mgen", "train", *args, "--out", str(double)]  # fmt: skip
    proc = subprocess.run(run, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "x 2 processes (gloo)" in proc.stderr
    wa, wb = _weights(single), _weights(double)
    for k in wa:
        torch.testing.assert_close(wb[k], wa[k], rtol=0, atol=1e-4)
    assert rundir.load_checkpoint(double)["progress"]["step"] == 6


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_trains_under_autocast(cli, abc_folder, tmp_path, precision):
    run = tmp_path / "run"
    r = cli("train", "--data", abc_folder, "--out", run, *TINY, *MODEL,
            "--precision", precision, "--max-steps", 3)  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads((run / "config.json").read_text())["precision"] == precision
    assert math.isfinite(history.read_metrics(run)[-1]["val_loss"])
