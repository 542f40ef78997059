"""Runs shared through the Hugging Face Hub (mgen.core.runs.hub, `mgen export --hub`).

No test reaches the network: a run exported with `--hub` is laid out in a cache as the Hub's
own client lays one out (models--OWNER--NAME/refs/main naming a commit, snapshots/<commit>/
linking to blobs/), and huggingface_hub, offline (HF_HUB_OFFLINE=1), finds it there. What
this leaves unexercised (a real upload and download) docs/pretrained.md says.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TINY, assert_one_line_error, mgen

hf = pytest.importorskip("huggingface_hub", reason="the hub extra: pip install 'mgen[hub]'")

COMMIT = "0123456789abcdef0123456789abcdef01234567"
REPO = "alice/tunes"


def lay_out(cache: Path, repo: str, files: dict[str, bytes], commit: str = COMMIT) -> Path:
    """`files` as the Hub's client caches revision main of the model repository `repo`: each
    file a blob named by its hash, linked from the commit's snapshot; the snapshot folder."""
    root = cache / ("models--" + repo.replace("/", "--"))
    (root / "refs").mkdir(parents=True, exist_ok=True)
    (root / "refs" / "main").write_text(commit)  # the client writes no newline
    snapshot, blobs = root / "snapshots" / commit, root / "blobs"
    snapshot.mkdir(parents=True, exist_ok=True)
    blobs.mkdir(exist_ok=True)
    for name, data in files.items():
        blob = blobs / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        try:
            (snapshot / name).symlink_to(Path("..", "..", "blobs", blob.name))
        except OSError:  # no symlinks here: the client copies files then, and so do we
            (snapshot / name).write_bytes(data)
    return snapshot


def folder_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def exported(testd_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`testd_run` exported for the Hub through the CLI."""
    out = tmp_path_factory.mktemp("export") / "tunes"
    code, text = mgen("export", testd_run, out, "--hub", "--repo", REPO)
    assert code == 0, text
    assert f"huggingface-cli upload {REPO} {out}" in text
    return out


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Hub cache under a fresh HF_HOME, offline; the current folder is `tmp_path`."""
    import huggingface_hub.constants as constants

    cache = tmp_path / "hf-home" / "hub"
    cache.mkdir(parents=True)
    monkeypatch.setenv("HF_HOME", str(cache.parent))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # huggingface_hub reads these once, when first imported: set them where it reads them now.
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.chdir(tmp_path)
    return cache


@pytest.fixture
def cached_run(hub_cache: Path, exported: Path) -> Path:
    """The exported run, in the Hub cache as alice/tunes: its snapshot folder."""
    return lay_out(hub_cache, REPO, folder_files(exported))


def test_exported_folder_holds_the_run_and_a_card(exported: Path, testd_run: Path) -> None:
    names = sorted(p.name for p in exported.iterdir())
    assert names == sorted(["config.json", "tokenizer.json", "model.safetensors", "metrics.csv",
                            "loss.png", "README.md"])  # fmt: skip
    assert (testd_run / "checkpoint.pt").is_file()  # left out: optimizer state
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        assert (exported / name).read_bytes() == (testd_run / name).read_bytes()


def test_card_metadata_is_what_the_hub_reads(exported: Path, testd_run: Path) -> None:
    import yaml
    from huggingface_hub import ModelCard

    from mgen.core.runs.artifact import RunDir

    card = ModelCard.load(exported / "README.md")
    data = card.data.to_dict()
    assert data["library_name"] == "mgen"
    assert data["license"] == "other"
    assert data["tags"] == ["mgen", "symbolic-music", "abc-char", "lstm2"]
    assert data["mgen"]["data"] == ["own files"]  # a folder of the trainer's: no path told
    best = RunDir(testd_run).best_val_loss()
    results = {r.metric_type: r for r in card.data.eval_results}  # one per metric
    assert results["loss"].metric_value == pytest.approx(best, abs=1e-6)
    assert results["loss"].task_type == "text-generation"
    assert {"loss", "bits_per_note", "accuracy"} == results.keys()
    text = (exported / "README.md").read_text()
    assert yaml.safe_load(text.split("---\n")[1]) == data  # plain YAML reads it the same
    assert f"mgen sample --run hf:{REPO}" in text
    assert str(testd_run) not in text and str(testd_run.parent) not in text


def test_sample_by_hub_name_offline(cli, cached_run: Path, tmp_path: Path) -> None:
    """The done-when of the issue: exported, placed in a Hub-layout cache, sampled by its hf:
    name with no network; samples go to ./runs/<name>/, never into the cache."""
    result = cli("sample", "--run", f"hf:{REPO}", "-k", "2", "-n", "50", "--seed", "1")
    assert result.exit_code == 0, result.output
    (folder,) = (tmp_path / "runs" / "hf-alice--tunes" / "samples").iterdir()
    assert sorted(p.name for p in folder.iterdir()) == [
        "sample-001.abc", "sample-001.mid", "sample-002.abc", "sample-002.mid"]  # fmt: skip
    assert not (cached_run / "samples").exists()


def test_load_run_by_hub_name(cached_run: Path) -> None:
    import mgen

    run = mgen.load_run(f"hf:{REPO}")
    assert run.shipped == f"hf:{REPO}"
    assert run.path.resolve() == cached_run.resolve()
    pinned = mgen.load_run(f"hf:{REPO}@{COMMIT}")  # a commit: found without refs/
    assert pinned.path.resolve() == cached_run.resolve()
    pieces = run.sample(n=20, num_samples=1, seed=0)
    assert len(pieces) == 1  # an untrained model may end at once: no tokens asked of it


def test_fine_tune_from_hub_name_records_the_commit(cached_run: Path, testd_abc: Path) -> None:
    code, text = mgen("train", "--init", f"hf:{REPO}", "--data", testd_abc, "--out", "ft",
                      "--max-steps", "1", *TINY)  # fmt: skip
    assert code == 0, text
    config = json.loads(Path("ft", "config.json").read_text())
    assert config["train"]["init"] == f"hf:{REPO}@{COMMIT}"


def test_a_repository_that_is_no_mgen_run_is_one_error(cli, hub_cache: Path) -> None:
    lay_out(hub_cache, "bob/bert", {
        "config.json": b'{"model_type": "bert", "hidden_size": 768}',
        "tokenizer.json": b'{"version": "1.0", "model": {"type": "WordPiece"}}',
        "model.safetensors": b"not read",
    })  # fmt: skip
    lay_out(hub_cache, "bob/readme", {"README.md": b"# nothing\n"})
    result = cli("sample", "--run", "hf:bob/bert", "-n", "10")
    assert_one_line_error(result.exit_code, result.output, "hf:bob/bert is not an mgen run",
                          "tokenizer")  # fmt: skip
    result = cli("sample", "--run", "hf:bob/readme", "-n", "10")
    assert_one_line_error(result.exit_code, result.output, "hf:bob/readme is not an mgen run",
                          "no config.json")  # fmt: skip


def test_a_repository_not_in_the_cache_offline_is_one_error(cli, hub_cache: Path) -> None:
    result = cli("sample", "--run", "hf:nobody/nothing", "-n", "10")
    assert_one_line_error(result.exit_code, result.output, "hf:nobody/nothing",
                          "not (wholly) in the Hub cache", "HF_HUB_OFFLINE")  # fmt: skip
    for bad in ("hf:tunes", "hf:a/b/c", "hf:a/b@"):
        result = cli("sample", "--run", bad, "-n", "10")
        assert_one_line_error(result.exit_code, result.output, "hf:OWNER/NAME")


def test_without_the_extra_one_error(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m.split(".")[0] == "huggingface_hub"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # import fails
    result = cli("sample", "--run", f"hf:{REPO}", "-n", "10")
    assert_one_line_error(result.exit_code, result.output, "pip install 'mgen[hub]'")


def test_export_refuses_a_folder_with_files(exported: Path, testd_run: Path) -> None:
    before = folder_files(exported)
    code, text = mgen("export", testd_run, exported)
    assert_one_line_error(code, text, "already holds files", "--force")
    assert folder_files(exported) == before
    code, text = mgen("export", testd_run, exported, "--hub", "--repo", REPO, "--force")
    assert code == 0, text
    assert folder_files(exported).keys() == before.keys()
    code, text = mgen("export", testd_run, exported.parent / "x", "--license", "MIT License")
    assert_one_line_error(code, text, "Hub licence id")


def test_plain_export_loads_as_a_run_directory(testd_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy"
    code, text = mgen("export", testd_run, out)
    assert code == 0, text
    assert not (out / "README.md").exists()
    code, text = mgen("sample", "--run", out, "-n", "20", "--out", tmp_path / "s")
    assert code == 0, text


def test_shipped_model_card_quotes_its_data_licence(tmp_path: Path) -> None:
    from huggingface_hub import ModelCard

    code, text = mgen("export", "folk-abc", tmp_path / "f", "--hub", "--license", "cc-by-nc-4.0")
    assert code == 0, text
    card = ModelCard.load(tmp_path / "f" / "README.md")
    assert card.data.license == "cc-by-nc-4.0"
    assert card.data.to_dict()["mgen"]["data"] == ["folk-abc"]
    assert "Essen: non-commercial" in card.text  # the dataset plugin's licence, quoted
    assert "An lstm2 trained for 3,600 CPU-seconds" in card.text  # its MODEL.md


def test_serve_offers_a_hub_run_by_name(cached_run: Path) -> None:
    from mgen.web.catalog import Catalog, named_runs

    catalog = Catalog([], pretrained=False, named=named_runs([f"hf:{REPO}"]))
    entry = catalog.get(f"hf:{REPO}")
    assert entry is not None and entry.source == "hub"
    assert entry.public()["tokenizer"] == "abc-char"


def test_names_of_cache_folders() -> None:
    from mgen.core.runs import hub

    snap = Path("/c/models--alice--tunes/snapshots") / COMMIT
    assert hub.hub_name(snap) == "hf:alice/tunes"
    assert hub.hub_name(snap, pinned=True) == f"hf:alice/tunes@{COMMIT}"
    assert hub.hub_name(Path("/runs/x")) is None
    assert hub.local_name("hf:alice/tunes") == "hf-alice--tunes"
    assert hub.local_name("folk-abc") == "folk-abc"
    assert hub.parse("hf:alice/tunes@v1") == ("alice/tunes", "v1")


@pytest.mark.slow
def test_a_user_shell_offline(exported: Path, tmp_path: Path) -> None:
    """As a user runs it: the variables in the environment, a fresh process."""
    cache = tmp_path / "home" / "hub"
    lay_out(cache, REPO, folder_files(exported))
    env = {**os.environ, "HF_HOME": str(cache.parent), "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}  # fmt: skip
    env.pop("HF_HUB_CACHE", None)  # found under HF_HOME
    done = subprocess.run(
        [sys.executable, "-m", "mgen", "sample", "--run", f"hf:{REPO}", "-n", "30",
         "--out", "out", "--device", "cpu"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "sample-001.mid").is_file()
