"""Shipped models: names in the `mgen.pretrained` entry-point group, read-only run directories,
damaged files as one-line errors, and fine-tuning (`--init`)."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TINY, assert_one_line_error

from mgen.core.runs import pretrained
from mgen.core.runs.artifact import RunDir

GOOD, TRUNCATED, BAD_JSON = "test-good", "test-truncated", "test-bad-json"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, music21_corpus) -> Path:
    """A tiny abc-char run trained for a few steps."""
    from conftest import mgen

    data = tmp_path_factory.mktemp("abc")
    shutil.copy(music21_corpus / "essenFolksong" / "ballad10.abc", data)
    run = tmp_path_factory.mktemp("runs") / "tiny"
    code, out = mgen("train", "--data", data, "--max-steps", "3", "--out", run, *TINY)
    assert code == 0, out
    return run


@pytest.fixture(scope="module")
def site(tmp_path_factory, tiny_run: Path):
    """A package installed the way pip leaves one (a dist-info with entry_points.txt) that
    registers three runs: one whole, one with truncated weights, one with broken JSON."""
    root = tmp_path_factory.mktemp("site")
    package = root / "fake_mgen_models"
    (package / "runs").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for folder in ("good", "truncated", "bad_json"):
        dest = package / "runs" / folder
        shutil.copytree(tiny_run, dest, ignore=shutil.ignore_patterns("checkpoint.pt"))
        (dest / "MODEL.md").write_text(f"# {folder}\n\nA tiny abc-char test model ({folder}).\n")
    weights = package / "runs" / "truncated" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    (package / "runs" / "bad_json" / "config.json").write_text('{"model": "lstm2",')
    info = root / "fake_mgen_models-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-mgen-models\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        f"[mgen.pretrained]\n{GOOD} = fake_mgen_models:runs.good\n"
        f"{TRUNCATED} = fake_mgen_models:runs.truncated\n"
        f"{BAD_JSON} = fake_mgen_models:runs.bad_json\n"
    )
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    yield package
    sys.path.remove(str(root))
    importlib.invalidate_caches()


def test_listing_reads_the_cards_and_says_why_a_model_is_damaged(site):
    found = {p.name: p for p in pretrained.list_pretrained()}
    good = found[GOOD]
    assert good.error is None and good.path == site / "runs" / "good"
    assert (good.tokenizer, good.model) == ("abc-char", "lstm2")
    assert good.distribution == "fake-mgen-models"
    assert good.description == "A tiny abc-char test model (good)."
    assert "truncated" in (found[TRUNCATED].error or "")
    assert "cannot read" in (found[BAD_JSON].error or "") and "config.json" in found[BAD_JSON].error


def test_mgen_models_lists_one_line_each(cli, site):
    out = cli("models").output
    line = next(ln for ln in out.splitlines() if GOOD in ln)
    assert "abc-char/lstm2" in line and "[fake-mgen-models 1.0]" in line
    assert "BROKEN" in next(ln for ln in out.splitlines() if TRUNCATED in ln)


def test_resolve_run_takes_paths_first_then_names(site, tiny_run, tmp_path, monkeypatch):
    assert pretrained.resolve_run(tiny_run) == tiny_run.resolve()
    assert pretrained.resolve_run(GOOD) == site / "runs" / "good"
    monkeypatch.chdir(tmp_path)
    (tmp_path / GOOD).mkdir()  # a folder that is no run does not hide the shipped model
    assert pretrained.resolve_run(GOOD) == site / "runs" / "good"
    with pytest.raises(pretrained.CheckpointError, match=f"shipped models: .*{GOOD}"):
        pretrained.resolve_run("no-such-model")


def test_sampling_a_shipped_model_writes_to_the_current_folder(cli, site, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in (site / "runs" / "good").iterdir())
    result = cli("sample", "--run", GOOD, "--decoder", "argmax", "-n", "60", "--device", "cpu")
    assert result.exit_code == 0, result.output
    [folder] = (tmp_path / "runs" / GOOD / "samples").iterdir()
    assert (folder / "sample-001.abc").exists()
    assert sorted(p.name for p in (site / "runs" / "good").iterdir()) == before


def test_damaged_shipped_models_are_one_line_errors(site):
    from conftest import mgen

    code, out = mgen("sample", "--run", TRUNCATED, "-n", "10", "--device", "cpu")
    assert_one_line_error(code, out, f"shipped model '{TRUNCATED}' is damaged", "truncated")
    code, out = mgen("eval", "--run", BAD_JSON, "--data", "folk-abc")
    assert_one_line_error(code, out, "damaged", "config.json")


def test_damaged_weights_in_a_run_directory_are_one_line_errors(tiny_run, tmp_path):
    from conftest import mgen

    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    (run / "model.safetensors").write_bytes((run / "model.safetensors").read_bytes()[:50])
    code, out = mgen("sample", "--run", run, "-n", "10", "--device", "cpu")
    assert_one_line_error(code, out, "cannot read weights")


def test_a_shipped_model_cannot_be_resumed(site):
    from conftest import mgen

    code, out = mgen("train", "--resume", "--out", GOOD, "--max-steps", "5")
    assert_one_line_error(code, out, "read-only", "--init")


def test_mgen_models_does_not_import_torch():
    probe = (
        "import sys\nfrom mgen.cli.app import app\n"
        "try:\n    app(['models'])\nexcept SystemExit:\n    pass\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stdout


def test_fine_tuning_starts_from_the_init_runs_weights_and_vocabulary(cli, site, tmp_path):
    """--init: a new run with the init run's tokenizer and weights; tokens the vocabulary
    lacks read as <unk> and are counted in the log."""
    from safetensors.torch import load_file

    data = tmp_path / "mine"
    data.mkdir()
    tune = "X:1\nT:Odd\nM:4/4\nL:1/8\nK:C\n" + "CDEF GABc | \u00a7\u00a7 cBAG FEDC |]\n" * 8
    (data / "mine.abc").write_text(tune * 1 + tune.replace("X:1", "X:2"), encoding="utf-8")
    run = tmp_path / "tuned"
    result = cli("train", "--init", GOOD, "--data", data, "--max-steps", "1", "--lr", "1e-12",
                 "--val-fraction", "0", "--out", run, "--device", "cpu", "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "fine-tuning test-good" in result.output
    assert "not in the vocabulary: read as <unk>" in result.output
    config = RunDir(run).read_config()
    assert config["train"]["init"] == GOOD and config["data"]["unk_tokens"] > 0
    assert (run / "tokenizer.json").read_text() == (site / "runs/good/tokenizer.json").read_text()
    before = load_file(str(site / "runs" / "good" / "model.safetensors"))
    after = load_file(str(run / "model.safetensors"))
    assert all((before[k] - after[k]).abs().max() < 1e-6 for k in before)


def test_init_and_resume_together_are_refused(site, tiny_run):
    from conftest import mgen

    code, out = mgen("train", "--init", GOOD, "--resume", "--out", tiny_run)
    assert_one_line_error(code, out, "--init", "--resume")


BUILTIN = [p.name for p in pretrained.list_pretrained() if p.distribution == "mgen"]
SHIPPED_FILES = {"config.json", "tokenizer.json", "model.safetensors", "metrics.csv", "loss.png",
                 "MODEL.md", "pianoroll.png"}  # fmt: skip


@pytest.mark.parametrize("name", BUILTIN)
def test_each_shipped_model_is_whole_small_and_packaged(name):
    import fnmatch
    import json
    import re

    [info] = [p for p in pretrained.list_pretrained() if p.name == name]
    assert info.error is None and info.path is not None and info.description
    files = {p.name for p in info.path.iterdir()}
    assert files == SHIPPED_FILES  # no checkpoint.pt (optimizer state), no samples
    assert sum(p.stat().st_size for p in info.path.iterdir()) <= 10 * 2**20
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text()  # package data:
    patterns = json.loads(re.search(r'^"mgen.pretrained" = (\[.*\])$', pyproject, re.M)[1])
    for file in files:
        assert any(fnmatch.fnmatch(f"{info.path.name}/{file}", p) for p in patterns), file


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILTIN)
def test_each_shipped_model_samples_with_argmax(cli, name, tmp_path, monkeypatch):
    """`mgen sample --run NAME --decoder argmax -n 200`: a valid file, no training."""
    import pretty_midi

    monkeypatch.chdir(tmp_path)
    result = cli("sample", "--run", name, "--decoder", "argmax", "-n", "200", "--device", "cpu")
    assert result.exit_code == 0, result.output
    [folder] = (tmp_path / "runs" / name / "samples").iterdir()
    assert len(list(folder.glob("sample-001.*"))) >= 1
    midi = pretty_midi.PrettyMIDI(str(folder / "sample-001.mid"))
    assert sum(len(i.notes) for i in midi.instruments) >= 1


@pytest.mark.slow
@pytest.mark.parametrize("decoding", [["--decoder", "argmax"], []], ids=["argmax", "default"])
@pytest.mark.parametrize("name", BUILTIN)
def test_each_shipped_models_sample_passes_the_judge(cli, name, decoding, tmp_path, monkeypatch):
    """The native files of `mgen sample --run NAME -n 200`, greedy and with the model's own
    decoding (its measured default), judged by the checks of `mgen eval`
    (docs/evaluation.md): no problem found."""
    from mgen.evaluate.validity import judge, kind_of

    monkeypatch.chdir(tmp_path)
    result = cli("sample", "--run", name, *decoding, "-n", "200", "-k", "4", "--device", "cpu")
    assert result.exit_code == 0, result.output
    [folder] = (tmp_path / "runs" / name / "samples").iterdir()
    by_stem: dict[str, list[Path]] = {}
    for path in sorted(folder.glob("sample-*.*")):
        by_stem.setdefault(path.stem, []).append(path)
    # Each sample's native file: its .abc or .krn, or its .mid for the MIDI tokenizers.
    natives = [min(paths, key=lambda p: p.suffix == ".mid") for paths in by_stem.values()]
    assert len(natives) == 4
    for native in natives:
        verdict = judge(native, kind_of(native, ""))
        assert all(not u.errors for u in verdict.units), [u.errors for u in verdict.units]


@pytest.mark.skipif("folk-abc" not in BUILTIN, reason="the shipped folk-abc model is absent")
def test_only_a_sample_that_ran_out_of_steps_is_cut_off():
    """A tune stopped by -n ends at its last bar line; one that reached <end> is kept whole."""
    from mgen.core.runs.run import load_run

    run = load_run("folk-abc")  # sampled raw: the tokenizer's own cut, not the grammar's
    [whole] = run.sample(
        n=3000, decoder="argmax", grammar=False
    )  # greedy: the same prefix at every -n
    assert len(whole) < 3000 and whole[-1] != "\n"
    n = len(whole) - 2  # its last two characters never generated
    [cut] = run.sample(n=n, decoder="argmax", grammar=False)
    assert whole[: len(cut)] == cut and cut[-1] == "|" and "|" not in whole[len(cut) : n]
    [again] = run.sample(
        n=len(whole) + 1, decoder="argmax", grammar=False
    )  # room for <end>: kept whole
    assert again == whole


@pytest.mark.skipif("folk-abc" not in BUILTIN, reason="the shipped folk-abc model is absent")
def test_demo_samples_the_shipped_model_without_training(tmp_path, monkeypatch):
    """`make demo`'s first step: MIDI from the shipped model in seconds, no training."""
    import time

    from mgen import demo

    monkeypatch.chdir(tmp_path)
    start = time.monotonic()
    midi, notes = demo.sample_shipped()
    assert midi.is_file() and notes > 0
    assert midi.resolve().is_relative_to(tmp_path.resolve())
    assert time.monotonic() - start < 30
