"""CLI validation: impossible values give one clear line and exit code 2, never a traceback.

Settings are checked before any data is read or any model is loaded where that is possible,
so a typo costs nothing; the few that need the data (model settings a plugin rejects, primer
symbols) are checked before training or sampling starts.
"""

from __future__ import annotations

import pytest
import torch
from conftest import TINY
from typer.testing import CliRunner

from mgen.cli.app import app


def _mgen(*args) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def _assert_config_error(code: int, output: str, expected: str, *, alone: bool = True) -> None:
    assert code == 2, (code, output)
    assert "Traceback" not in output
    errors = [ln for ln in output.splitlines() if ln.startswith("Error: ")]
    assert len(errors) == 1, output
    assert expected in errors[0], errors[0]
    if alone:  # rejected before anything else happened
        assert output.strip() == errors[0], output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--batch-size", "0"], "--batch-size must be >= 1"),
        (["--batch-size", "-8"], "--batch-size must be >= 1"),
        (["--seq-len", "-1"], "--seq-len must be >= 1"),
        (["--epochs", "0"], "--epochs must be >= 1"),
        (["--max-steps", "-1"], "--max-steps must be >= 1"),
        (["--checkpoint-every", "0"], "--checkpoint-every must be >= 1"),
        (["--hidden-size", "0"], "--hidden-size must be >= 1"),
        (["--hidden-size", "-32"], "--hidden-size must be >= 1"),
        (["--embed-dim", "0"], "--embed-dim must be >= 1"),
        (["--layers", "0"], "--layers must be >= 1"),
        (["--dropout", "1.0"], "dropout must be in [0, 1)"),
        (["--dropout", "-0.1"], "dropout must be in [0, 1)"),
        (["--lr", "0"], "--lr must be > 0"),
        (["--lr", "-0.001"], "--lr must be > 0"),
        (["--lr", "nan"], "--lr must be > 0"),
        (["--val-fraction", "1"], "--val-fraction must be in [0, 1)"),
        (["--val-fraction", "-0.5"], "--val-fraction must be in [0, 1)"),
        (["--time-budget", "0"], "cannot read duration '0'"),
        (["--time-budget", "soon"], "cannot read duration 'soon'"),
        (["--device", "tpu"], "unknown device 'tpu'"),
        (["--device", "cpu:x"], "unknown device 'cpu:x'"),
        (["--precision", "fp8"], "unknown precision 'fp8'"),
        (["-M", "no_such_setting=1"], "unknown setting(s) no_such_setting"),
        (["-T", "oops"], "--tokenizer-option takes KEY=VALUE"),
    ],
)
def test_train_rejects(testd_abc, tmp_path, args, message):
    code, out = _mgen("train", "--data", testd_abc, "--out", tmp_path / "run", "--quiet", *args)
    # Model settings are checked when the model is built, after the data is read.
    alone = args[0] not in ("-M", "--dropout")
    _assert_config_error(code, out, message, alone=alone)
    assert not (tmp_path / "run").exists()


def test_train_rejects_a_model_size_given_as_a_model_option(testd_abc, tmp_path):
    """Sizes set with -M reach the model plugin; torch's own complaint becomes one line."""
    code, out = _mgen(
        "train", "--data", testd_abc, "--out", tmp_path / "r", "-M", "num_layers=0", *TINY
    )
    _assert_config_error(code, out, "model 'lstm2' cannot be built", alone=False)
    assert "num_layers must be greater than zero" in out


@pytest.mark.parametrize("command", ["train", "sample"])
def test_cuda_without_a_gpu(command, testd_abc, testd_run, tmp_path, monkeypatch):
    if torch.cuda.is_available():  # on a GPU machine, hide the GPU: the check is what we test
        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    where = (
        ["--data", testd_abc, "--out", tmp_path / "r"]
        if command == "train"
        else ["--run", testd_run]
    )
    code, out = _mgen(command, *where, "--device", "cuda")
    _assert_config_error(code, out, "--device cuda was asked for but no CUDA GPU is available")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-n", "0"], "-n and --num-samples must be >= 1"),
        (["-n", "-5"], "-n and --num-samples must be >= 1"),
        (["--num-samples", "0"], "-n and --num-samples must be >= 1"),
        (["--temperature", "0"], "--temperature must be > 0"),
        (["--temperature", "-1"], "--temperature must be > 0"),
        (["--temperature", "nan"], "--temperature must be > 0"),
        (["--decoder", "top-p", "--top-p", "0"], "--top-p must be in (0, 1]"),
        (["--decoder", "top-p", "--top-p", "1.01"], "--top-p must be in (0, 1]"),
        (["--decoder", "top-p", "--top-p", "-0.3"], "--top-p must be in (0, 1]"),
        (["--decoder", "top-p", "--top-p", "nan"], "--top-p must be in (0, 1]"),
        (["--decoder", "top-p", "--temperature", "0"], "--temperature must be > 0"),
        (["--decoder", "top-k", "--top-k", "0"], "--top-k must be >= 1"),
        (["--decoder", "argmax", "--temperature", "0.5"], "does not take --temperature"),
        (["--repetition-penalty", "0.5"], "--repetition-penalty must be >= 1"),
        (["--no-repeat-ngram", "1"], "--no-repeat-ngram must be 0 (off) or >= 2"),
        (["--no-repeat-ngram", "-2"], "--no-repeat-ngram must be 0 (off) or >= 2"),
        (["--device", "tpu"], "unknown device 'tpu'"),
        (["--device", "cuda:zero"], "device"),
    ],
)
def test_sample_rejects(testd_run, tmp_path, args, message):
    code, out = _mgen("sample", "--run", testd_run, "--out", tmp_path / "s", *args)
    _assert_config_error(code, out, message)
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("primer", ["X:1\nK:G\n\u2603\u00df", "abc\x07|"])
def test_primer_with_unknown_symbols(testd_run, tmp_path, primer):
    code, out = _mgen("sample", "--run", testd_run, "--primer", primer, "--out", tmp_path / "s")
    _assert_config_error(code, out, "primer has symbols this tokenizer does not know")
    unknown = [c for c in primer if c in "\u2603\u00df\x07"]
    assert all(repr(c) in out for c in unknown), out
    assert not (tmp_path / "s").exists()


def test_boundaries_are_accepted(testd_run, tmp_path):
    """The limits themselves are valid: top-p 1, a tiny temperature, -n 1."""
    for i, args in enumerate(
        (["--decoder", "top-p", "--top-p", "1"], ["--temperature", "0.01"], ["-n", "1"])
    ):
        code, out = _mgen("sample", "--run", testd_run, "--out", tmp_path / str(i), *args)
        assert code == 0, out
