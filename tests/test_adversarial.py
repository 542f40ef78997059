"""Hostile but fair use of the CLI and the library (issue 25): every value at and beyond its
limits, runs that must not be destroyed, files that are not files. Each case gives a result or
one line with exit status 2, never a traceback, and loses nothing. The server's side is in
tests/test_serve_adversarial.py."""

from __future__ import annotations

import hashlib
import math
import shutil
from pathlib import Path

import pytest
import torch
from conftest import TINY, write_midi
from conftest import mgen as _mgen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mgen
from mgen.core.contracts import registry
from mgen.core.contracts.decoder import build_decoder
from mgen.core.contracts.errors import ConfigError, MgenError
from mgen.core.runs import rundir
from mgen.core.runs.artifact import RunDir

PRETRAINED = Path(mgen.__file__).parent / "pretrained"


def _one_error(code: int, output: str, expected: str, status: int = 2) -> str:
    """One `Error:` line holding `expected`, exit `status` (2 for a bad value, 1 for bad data)."""
    assert code == status, (code, output)
    assert "Traceback" not in output, output
    errors = [ln for ln in output.splitlines() if ln.startswith("Error: ")]
    assert len(errors) == 1, output
    assert expected in errors[0], errors[0]
    return errors[0]


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


# -- 1. --resume never destroys trained weights ----------------------------------------------


def test_resume_refuses_a_trained_run_without_its_checkpoint(tmp_path: Path):
    """A shared run (docs/pretrained.md leaves checkpoint.pt out): --resume used to start it
    again from step 0 and overwrite its weights and metrics (validation 0.99 -> 4.56)."""
    shared = tmp_path / "shared"
    shutil.copytree(PRETRAINED / "folk_abc", shared)
    before = _digest(shared)
    code, out = _mgen("train", "--resume", "--out", shared, "--max-steps", "2", "--quiet")
    line = _one_error(code, out, "holds trained weights (model.safetensors) but no checkpoint.pt")
    assert "--init" in line
    assert _digest(shared) == before  # nothing written, nothing removed
    with pytest.raises(MgenError, match="holds trained weights"):
        mgen.train(resume=True, out=shared, max_steps=2)
    assert _digest(shared) == before


def test_a_run_has_a_checkpoint_before_its_first_weights(
    tmp_path: Path, testd_abc: Path, monkeypatch: pytest.MonkeyPatch
):
    """What makes the refusal above safe: a run killed at any moment either has no weights
    (and --resume starts it again) or has a checkpoint to continue from."""
    seen = []
    save = RunDir.save_weights

    def watched(run: RunDir, model) -> None:
        seen.append((run.path / rundir.CHECKPOINT).exists())
        save(run, model)

    monkeypatch.setattr(RunDir, "save_weights", watched)
    mgen.train(tokenizer="abc-char", data=[str(testd_abc)], max_steps=2, eval_every=1,
               out=tmp_path / "run", batch_size=8, seq_len=32, device="cpu",
               model_options={"hidden_size": 16, "embed_dim": 8})  # fmt: skip
    assert seen and all(seen), seen


def test_a_run_stopped_before_any_weights_still_starts_again(tmp_path: Path, testd_run: Path):
    """The case --resume restarts: config.json written, no weights and no checkpoint yet."""
    run = tmp_path / "early"
    run.mkdir()
    shutil.copy(testd_run / rundir.CONFIG, run)
    shutil.copy(testd_run / rundir.TOKENIZER, run)
    code, out = _mgen("train", "--resume", "--out", run, "--max-steps", "2")
    assert code == 0, out
    assert "starting it again from step 0" in out
    assert (run / rundir.WEIGHTS).exists()


# -- 7. --resume refuses options that contradict the run, and checks the rest ---------------


def test_resume_refuses_options_that_contradict_the_run(tmp_path: Path, testd_run: Path):
    run = tmp_path / "run"
    shutil.copytree(testd_run, run)
    before = _digest(run)
    hostile = ["--model", "gru", "--lr=-1", "--seed=-1", "--hidden-size", "64",
               "--data", "garbage"]  # fmt: skip
    code, out = _mgen("train", "--resume", "--out", run, *hostile)
    _one_error(code, out, "--lr must be > 0")  # every value is validated first
    code, out = _mgen("train", "--resume", "--out", run, "--model", "gru", "--seed=-1")
    _one_error(code, out, "--seed must be an integer from 0")
    code, out = _mgen("train", "--resume", "--out", run, "--model", "gru",
                      "--hidden-size", "64", "--data", "garbage")  # fmt: skip
    line = _one_error(code, out, "these options differ from it")
    for named in ("--model gru (the run: lstm2)", "--model-options", "--data garbage"):
        assert named in line, line
    assert _digest(run) == before
    with pytest.raises(ConfigError, match="--model gru"):
        mgen.train(resume=True, out=run, model="gru")


def test_resume_accepts_the_length_the_machine_and_the_runs_own_values(
    tmp_path: Path, testd_run: Path
):
    run = tmp_path / "run"
    shutil.copytree(testd_run, run)
    same = ["--model", "lstm2", "--batch-size", "8", "--seq-len", "32"]
    code, out = _mgen("train", "--resume", "--out", run, "--max-steps", "5", "--device",
                      "cpu", "--workers", "1", "--quiet", *same)  # fmt: skip
    assert code == 0, out
    assert "resumed" in out


# -- 4. decoder numbers: one validation, and every accepted value samples ---------------------

FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-300, 1e-46, 1e-45, 1e-40, 1e-39, 1.2e-38, 1e-30, 1e-7,
                     1 - 1e-16, 1.0, 1 + 1e-15, 5.0, 1e30, 1e300, math.inf, -math.inf, math.nan]),
)  # fmt: skip
INTS = st.one_of(st.integers(), st.sampled_from([0, 1, 2, -1, 2**31, 2**63, 10**30]))


def _option_values(name: str):
    decoder = registry.load("decoder", name)
    fields = {f: (INTS if isinstance(v, int) else FLOATS)
              for f, v in decoder.Options().to_dict().items()}  # fmt: skip
    return st.fixed_dictionaries({}, optional=fields)


@pytest.mark.parametrize("name", registry.names("decoder"))
@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(data=st.data())
def test_every_decoder_number_is_refused_in_one_line_or_samples(name: str, data):
    """Any number for any option of any decoder plugin: a one-line ConfigError, or ids in the
    vocabulary for logits with masked tokens (the API and the page check through the same
    build_decoder, so a 500 "probability tensor contains inf, nan" cannot come back)."""
    options = data.draw(_option_values(name))
    try:
        decoder = build_decoder(name, options)
    except ConfigError as e:
        assert "\n" not in str(e) and str(e)
        return
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 40, generator=gen) * 10
    logits[:, 5:9] = float("-inf")  # banned tokens, as the sampling engine masks them
    logits[1, :] = float("-inf")
    logits[1, 12] = 0.0  # one row with a single allowed token
    ids = decoder(logits, gen)
    assert ids.shape == (3,)
    assert all(0 <= i < 40 and not 5 <= i < 9 for i in ids.tolist()), (options, ids)
    assert ids[1] == 12


@pytest.mark.parametrize(
    "args",
    [
        ["--temperature", "1e-40"],
        ["--temperature", "1e-39"],
        ["--temperature", "1e300"],
        ["--decoder", "top-p", "--top-p", "1e-46"],
        ["--decoder", "top-p", "--top-p", "1e-300", "--temperature", "1e-45"],
        ["--decoder", "top-k", "--top-k", "1000000", "--temperature", "1e-44"],
        ["--seed", str(2**63 - 1)],
    ],
)
def test_extreme_but_valid_numbers_sample(tmp_path: Path, testd_run: Path, args: list[str]):
    code, out = _mgen("sample", "--run", testd_run, "-n", "20", "-k", "2", "--out",
                      tmp_path / "s", *args)  # fmt: skip
    assert code == 0, out
    assert "Traceback" not in out
    assert len(list((tmp_path / "s").glob("sample-00*.abc"))) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--temperature", "inf"], "--temperature must be > 0 and finite"),
        (["--temperature", "-inf"], "--temperature must be > 0 and finite"),
        (["--temperature", "1e-400"], "--temperature must be > 0"),  # parses as 0.0
        (["--decoder", "top-p", "--top-p", "inf"], "--top-p must be in (0, 1]"),
        (["--seed", "-1"], "--seed must be an integer from 0"),
        (["--seed", str(2**63)], "--seed must be an integer from 0"),
        (["--repetition-penalty", "nan"], "--repetition-penalty must be >= 1 and finite"),
        (["--repetition-penalty", "inf"], "--repetition-penalty must be >= 1 and finite"),
        (["-k", "100000"], "--num-samples must be <= 1,000"),
        (["-n", "10000000"], "-n must be <= 100,000"),
    ],
)
def test_numbers_beyond_their_limits_are_one_line(testd_run: Path, args: list[str], message: str):
    code, out = _mgen("sample", "--run", testd_run, *args)
    _one_error(code, out, message)


def test_the_api_checks_the_same_numbers(testd_run: Path):
    run = mgen.load_run(testd_run)
    for bad, match in [({"seed": -1}, "--seed"), ({"num_samples": 10**6}, "--num-samples"),
                       ({"temperature": math.inf}, "--temperature")]:  # fmt: skip
        with pytest.raises(ConfigError, match=match):
            run.sample(n=5, **{"num_samples": 1, **bad})
    assert len(run.sample(n=5, num_samples=2, temperature=1e-40)) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lr", "inf"], "--lr must be > 0 and finite"),
        (["--lr", "nan"], "--lr must be > 0"),
        (["--seed", "-1"], "--seed must be an integer from 0"),
        (["--weight-decay", "nan"], "--weight-decay must be >= 0"),
    ],
)
def test_training_numbers_beyond_their_limits_are_one_line(args: list[str], message: str):
    code, out = _mgen("train", "--max-steps", "1", *args)
    _one_error(code, out, message)


# -- 8 and 9: files that are not what they say ------------------------------------------------


def test_a_missing_soundfont_is_an_error_not_the_system_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Where another soundfont is at hand ($MGEN_SOUNDFONT, the system's), it was used in
    place of the missing one asked for, and the render exited 0."""
    other = tmp_path / "system.sf2"
    other.write_bytes(b"RIFF")
    monkeypatch.setenv("MGEN_SOUNDFONT", str(other))
    song = write_midi(tmp_path / "made.mid", [60, 62, 64])
    code, out = _mgen("render", "--wav", "--soundfont", tmp_path / "nonexistent.sf2", song)
    _one_error(code, out, "no soundfont at", status=1)
    assert not song.with_suffix(".wav").exists()


def test_a_device_is_not_training_data():
    code, out = _mgen("train", "--data", "/dev/zero", "--max-steps", "1", *TINY)
    _one_error(code, out, "not a regular file or folder: /dev/zero", status=1)


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_rendering_an_empty_abc_file_says_so(tmp_path: Path, text: str):
    empty = tmp_path / "empty.abc"
    empty.write_text(text)
    code, out = _mgen("render", "--png", empty)
    line = _one_error(code, out, "empty.abc", status=1)
    assert "empty" in line.split("empty.abc", 1)[1]
    assert "IsADirectoryError" not in line
