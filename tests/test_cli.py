"""The CLI end to end: train and sample with every model and decoder, run directories, resume,
reproducibility, plugin listing and one-line errors."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
import torch
from conftest import TINY
from safetensors.torch import load_file
from typer.testing import CliRunner

from mgen.cli.app import app
from mgen.core.contracts import registry

MODELS = registry.names("model")


def _train(cli, abc_folder: Path, out: Path, *extra: str):
    result = cli("train", "--data", abc_folder, "--out", out, *TINY, *extra)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory, music21_corpus) -> Path:
    """One tiny lstm2 run shared by the sampling tests."""
    import shutil

    folder = tmp_path_factory.mktemp("abc")
    shutil.copy(music21_corpus / "essenFolksong" / "ballad10.abc", folder)
    run = tmp_path_factory.mktemp("runs") / "run"
    result = CliRunner().invoke(
        app, ["train", "--data", str(folder), "--out", str(run), "--max-steps", "20", *TINY]
    )
    assert result.exit_code == 0, result.output
    return run


@pytest.mark.parametrize("model", MODELS)
def test_train_and_sample_every_model(cli, abc_folder, tmp_path, model):
    run = tmp_path / "run"
    _train(cli, abc_folder, run, "--model", model, "--max-steps", "4")
    result = cli("sample", "--run", run, "--decoder", "argmax", "-n", "40", "--out", tmp_path / "s")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "s" / "sample-001.abc").read_text().startswith("X:1")


def test_sample_every_decoder_reproducibly(cli, trained, tmp_path):
    for name in registry.names("decoder"):
        try:
            registry.load("decoder", name)
        except Exception:  # noqa: BLE001 - broken plugins are listed, not used
            continue
        texts = []
        for attempt in ("a", "b"):
            out = tmp_path / f"{name}-{attempt}"
            result = cli(
                "sample",
                "--run",
                trained,
                "--decoder",
                name,
                "-n",
                "80",
                "-k",
                "3",
                "--seed",
                "5",
                "--out",
                out,
            )
            assert result.exit_code == 0, result.output
            texts.append([p.read_text() for p in sorted(out.glob("*.abc"))])
        assert len(texts[0]) == 3
        assert texts[0] == texts[1], f"{name}: same seed gave different samples"


def test_different_seeds_differ(cli, trained, tmp_path):
    outs = []
    for seed in ("1", "2"):
        cli(
            "sample",
            "--run",
            trained,
            "--decoder",
            "multinomial",
            "-n",
            "80",
            "--seed",
            seed,
            "--out",
            tmp_path / seed,
        )
        outs.append((tmp_path / seed / "sample-001.abc").read_text())
    assert outs[0] != outs[1]


def test_primer_is_continued(cli, trained, tmp_path):
    result = cli(
        "sample",
        "--run",
        trained,
        "--decoder",
        "argmax",
        "-n",
        "30",
        "--primer",
        "M:4/4\nL:1/8\nK:G\n",
        "--out",
        tmp_path / "p",
    )
    assert result.exit_code == 0, result.output
    assert "M:4/4" in (tmp_path / "p" / "sample-001.abc").read_text()


def test_run_directory_is_self_describing(trained):
    from mgen.core.runs.artifact import RunDir

    config = RunDir(trained).read_config()  # config.json, the tokenizer's facts its own file's
    assert config["tokenizer"] == "abc-char" and config["model"] == "lstm2"
    assert config["plugins"]["model"]["distribution"] == "mgen"
    assert config["versions"]["torch"].startswith("2.")
    assert config["train"]["max_steps"] == 20
    tok = json.loads((trained / "tokenizer.json").read_text())
    assert tok["plugin"] == "abc-char" and tok["vocab"][:4] == [
        "<pad>",
        "<start>",
        "<end>",
        "<unk>",
    ]
    assert config["model_config"]["vocab_size"] == len(tok["vocab"])
    weights = load_file(str(trained / "model.safetensors"))
    assert weights["head.weight"].shape[0] == len(tok["vocab"])
    ckpt = torch.load(trained / "checkpoint.pt", weights_only=True)
    assert ckpt["progress"]["step"] == 20
    with open(trained / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert float(rows[-1]["val_loss"]) > 0 and int(rows[-1]["step"]) == 20
    assert (trained / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert (trained.parent / "latest").resolve() == trained.resolve()


def _final_weights(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / "checkpoint.pt", weights_only=True)["model"]


def test_resume_matches_an_uninterrupted_run(cli, abc_folder, tmp_path):
    """A run stopped at step 4 and resumed to 8 ends with the weights of one trained straight
    to 8. Constant rate: a cosine schedule decays over the budget, which the resume extends
    (tests/test_crash_safety.py resumes killed runs with the budget unchanged and the cosine)."""
    straight, split = tmp_path / "straight", tmp_path / "split"
    const = ("--lr-schedule", "constant", "--checkpoint-every", "4")
    _train(cli, abc_folder, straight, "--max-steps", "8", *const)
    _train(cli, abc_folder, split, "--max-steps", "4", *const)
    result = cli("train", "--resume", "--out", split, "--max-steps", "8", "--quiet")
    assert result.exit_code == 0, result.output
    assert "resumed" in result.output
    a, b = _final_weights(straight), _final_weights(split)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert torch.load(split / "checkpoint.pt", weights_only=True)["progress"]["step"] == 8


def test_same_seed_same_weights_and_samples(cli, abc_folder, tmp_path):
    for name in ("a", "b"):
        _train(cli, abc_folder, tmp_path / name, "--max-steps", "3", "--seed", "9")
        cli(
            "sample",
            "--run",
            tmp_path / name,
            "-n",
            "60",
            "--seed",
            "3",
            "--out",
            tmp_path / f"s{name}",
        )
    a, b = _final_weights(tmp_path / "a"), _final_weights(tmp_path / "b")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "sa" / "sample-001.abc").read_text() == (
        tmp_path / "sb" / "sample-001.abc"
    ).read_text()


def test_plugins_lists_the_builtins(cli):
    result = cli("plugins")
    assert result.exit_code == 0
    for name in (
        "rnn",
        "lstm",
        "lstm2",
        "gru",
        "argmax",
        "temperature",
        "multinomial",
        "top-k",
        "top-p",
        "abc-char",
    ):
        assert f"  {name} " in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--model", "mamba"], "unknown model 'mamba'; available: gru, lstm"),
        (["train", "--tokenizer", "wav"], "unknown tokenizer 'wav'; available:"),
        (["sample", "--decoder", "beam"], "unknown decoder 'beam'; available: argmax"),
        (["sample", "--run", "nowhere"], "no run directory at nowhere"),
        (["train", "--data", "no/such/folder"], "no such file or folder"),
        (["train", "--device", "tpu"], "unknown device 'tpu'"),
    ],
)
def test_user_mistakes_give_one_line(cli, tmp_path, args, message):
    os.chdir(tmp_path)
    result = cli(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_empty_corpus_names_what_was_searched(cli, tmp_path):
    (tmp_path / "empty").mkdir()
    result = cli("train", "--data", tmp_path / "empty", "--quiet")
    assert result.exit_code != 0
    assert "no files matching *.abc, *.txt under" in result.output


@pytest.mark.slow
def test_readme_commands_from_any_directory(cli, tmp_path, monkeypatch):
    """The acceptance commands exactly as README gives them, on the embedded dataset."""
    monkeypatch.chdir(tmp_path)
    result = cli("train", "--tokenizer", "abc-char", "--model", "lstm2", "--max-steps", "50")
    assert result.exit_code == 0, result.output
    result = cli("sample", "--decoder", "argmax", "-n", "200")
    assert result.exit_code == 0, result.output
    assert any(line.endswith(".abc") for line in result.stdout.splitlines())
