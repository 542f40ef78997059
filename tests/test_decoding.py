"""A run's chosen decoding (config.json's "decoding"): saved once, used by `mgen sample --run`
when no decoder or decoder option is given, overridden by any that is."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import assert_one_line_error, mgen

from mgen.core.contracts.errors import ConfigError
from mgen.core.runs.decoding import Decoding, chosen, resolve


def test_the_chosen_decoding_round_trips_and_refuses_unknown_settings():
    d = Decoding("top-p", {"top_p": 0.95}, chosen_by="tools/decoding_sweep.py")
    assert Decoding.from_dict(d.to_dict()) == d
    assert d.describe() == "top-p (top_p=0.95)"
    with pytest.raises(ConfigError, match="unknown setting"):
        Decoding.from_dict({"decoder": "top-p", "topp": 0.9})
    with pytest.raises(ConfigError, match="must not be empty"):
        Decoding.from_dict({"decoder": ""})


def test_what_is_asked_wins_then_the_runs_choice_then_temperature():
    config = {"decoding": {"decoder": "top-k", "options": {"top_k": 5}}}
    assert resolve(config, "argmax", {"temperature": None}) == ("argmax", {})
    assert resolve(config, None, {"temperature": 0.8, "top_p": None}) == (
        "temperature", {"temperature": 0.8})  # fmt: skip
    assert resolve(config, None, {"temperature": None}) == ("top-k", {"top_k": 5})
    assert resolve({}, None, {}) == ("temperature", {})
    assert chosen({}) == Decoding()


@pytest.fixture
def chosen_run(testd_run: Path, tmp_path: Path) -> Path:
    """The tiny abc-char run, copied, with top-k 1 (greedy, so unlike sampling) as its choice."""
    from mgen.core.runs.artifact import RunDir

    run = tmp_path / "run"
    shutil.copytree(testd_run, run)
    RunDir(run).save_decoding(Decoding("top-k", {"top_k": 1}).to_dict())
    return run


def _pieces(folder: Path) -> list[str]:
    return [p.read_text() for p in sorted(folder.glob("sample-*.abc"))]


def test_mgen_sample_uses_the_runs_chosen_decoding_unless_told_otherwise(chosen_run, tmp_path):
    common = ["sample", "--run", chosen_run, "-n", "60", "-k", "3", "--seed", "3"]
    for name, extra in [("default", []), ("asked", ["--decoder", "top-k", "--top-k", "1"]),
                        ("temperature", ["--decoder", "temperature"]),
                        ("warmer", ["--temperature", "1.0"])]:  # fmt: skip
        code, out = mgen(*common, *extra, "--out", tmp_path / name)
        assert code == 0, out
    assert _pieces(tmp_path / "default") == _pieces(tmp_path / "asked")
    assert _pieces(tmp_path / "default") != _pieces(tmp_path / "temperature")
    assert _pieces(tmp_path / "warmer") == _pieces(tmp_path / "temperature")


def test_the_chosen_decoding_reaches_the_api_and_the_loaded_run(chosen_run, tmp_path):
    from mgen import api

    loaded = api.load_run(chosen_run)
    assert loaded.resolve_decoding(None, {}) == ("top-k", {"top_k": 1})
    by_default = api.sample(loaded, n=40, num_samples=2, seed=5, out=tmp_path / "a").pieces
    greedy = api.sample(loaded, n=40, num_samples=2, decoder="top-k", top_k=1, seed=5,
                        out=tmp_path / "b").pieces  # fmt: skip
    assert by_default == greedy == loaded.sample(40, 2, seed=5)
    streamed = list(api.stream(loaded, 40, seed=5))[-1]
    assert streamed.piece == by_default[0]


def test_a_saved_decoder_that_is_not_installed_is_one_line(chosen_run, tmp_path):
    from mgen.core.runs.artifact import RunDir

    RunDir(chosen_run).save_decoding(Decoding("no-such-decoder").to_dict())
    code, out = mgen("sample", "--run", chosen_run, "-n", "20", "--out", tmp_path / "s")
    assert_one_line_error(code, out, "no-such-decoder", "temperature")
