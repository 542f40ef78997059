"""Untrusted files: a shared run directory can never run code, and broken ones say what is wrong.

Each test plants a file in a real run directory (trained here on real ABC tunes) and runs the CLI
on it. The malicious pickles really are malicious: `_assert_payload_works` shows that plain
unpickling them creates the marker file that mgen must never create.
"""

from __future__ import annotations

import json
import pickle
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY
from conftest import assert_one_line_error as _assert_one_line_error
from conftest import mgen as _mgen
from typer.testing import CliRunner

from mgen.cli.app import app
from mgen.core.data import corpus as data
from mgen.core.data.prepare import build_tokenizer
from mgen.core.runs import rundir
from mgen.core.training import history


class _Payload:
    """Unpickling this object creates `marker`: the stand-in for any code an attacker likes."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _train(folder: Path, run: Path, *extra: str) -> Path:
    args = ["train", "--data", str(folder), "--out", str(run), "--max-steps", "4", *TINY, *extra]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return run


@pytest.fixture(scope="module")
def runs(tmp_path_factory, music21_corpus) -> dict[str, Path]:
    """Three tiny real runs: lstm2 on one ABC file, lstm2 on another (other vocabulary), gru."""
    root = tmp_path_factory.mktemp("untrusted")
    folders = {}
    for name, abc in (("a", "testd.abc"), ("b", "ballad10.abc")):
        folders[name] = root / f"abc-{name}"
        folders[name].mkdir()
        shutil.copy(music21_corpus / "essenFolksong" / abc, folders[name])
    return {
        "lstm2": _train(folders["a"], root / "lstm2", "--checkpoint-every", "2"),
        "other_vocab": _train(folders["b"], root / "other_vocab"),
        "gru": _train(folders["a"], root / "gru", "--model", "gru"),
    }


@pytest.fixture
def run(runs, tmp_path) -> Path:
    """A private copy of the lstm2 run to plant files in."""
    return Path(shutil.copytree(runs["lstm2"], tmp_path / "run"))


def _assert_payload_works(planted: Path, marker: Path) -> None:
    """Plain unpickling of the planted file runs the payload (so the tests above meant it)."""
    assert not marker.exists()
    with open(planted, "rb") as f:
        if planted.suffix == ".npz":
            np.load(f, allow_pickle=True)["ids"]
        elif planted.read_bytes()[:2] == b"PK":
            torch.load(f, weights_only=False)
        else:
            pickle.load(f)
    assert marker.exists(), "the payload did not run: this test would prove nothing"


@pytest.mark.parametrize("how", ["torch.save", "pickle.dump"])
def test_resume_refuses_a_checkpoint_crafted_to_run_code(run, tmp_path, how):
    marker = tmp_path / "pwned"
    planted = run / rundir.CHECKPOINT
    state = {"model": _Payload(marker), "optimizer": {}, "progress": {}, "rng": None}
    if how == "torch.save":
        torch.save(state, planted)
    else:
        with open(planted, "wb") as f:
            pickle.dump(state, f)
    code, out = _mgen("train", "--resume", "--out", run, "--max-steps", "6", "--quiet")
    _assert_one_line_error(code, out, "refusing to load", str(planted))
    assert not marker.exists(), "loading the checkpoint ran its code"
    _assert_payload_works(planted, marker)


def test_sampling_never_unpickles_anything(run, tmp_path):
    """Sampling reads safetensors and JSON only: a pickle posing as weights is just corrupt."""
    marker = tmp_path / "pwned"
    planted = run / rundir.WEIGHTS
    with open(planted, "wb") as f:
        pickle.dump({"embed.weight": _Payload(marker)}, f)
    code, out = _mgen("sample", "--run", run, "-n", "5", "--out", tmp_path / "s")
    _assert_one_line_error(code, out, "cannot read weights", str(planted))
    assert not marker.exists()
    assert not (tmp_path / "s").exists()
    _assert_payload_works(planted, marker)


def test_a_poisoned_corpus_cache_is_ignored_not_unpickled(tmp_path, music21_corpus, monkeypatch):
    """The parse cache is keyed by file contents, so a shared cache folder could be poisoned."""
    monkeypatch.setenv("MGEN_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "abc"
    folder.mkdir()
    shutil.copy(music21_corpus / "essenFolksong" / "testd.abc", folder)
    marker = tmp_path / "pwned"
    tok = build_tokenizer("abc-char", {})
    files = data.find_files([folder], tok.format.patterns)
    planted = data.cache_dir() / "corpora" / f"{data._cache_key(tok, files)}.npz"
    planted.parent.mkdir(parents=True, exist_ok=True)
    payload = np.array([_Payload(marker)], dtype=object)
    np.savez(planted, ids=payload, offsets=payload, piece_file=payload, meta=payload)
    kept = Path(shutil.copy(planted, tmp_path / "poison.npz"))
    warnings: list[str] = []
    corpus = data.load_corpus(tok, files, workers=1, progress=False, warn=warnings.append)
    assert not marker.exists()
    assert not corpus.from_cache and len(corpus) > 0
    assert any("ignoring unreadable corpus cache" in w for w in warnings), warnings
    # The re-parse replaced the poisoned entry with a good one.
    assert data.load_corpus(tok, files, workers=1, progress=False).from_cache
    _assert_payload_works(kept, marker)


def test_tokenizer_json_cannot_name_arbitrary_code(run):
    """tokenizer.json names an installed plugin by entry-point name, never a module path."""
    state = json.loads((run / rundir.TOKENIZER).read_text())
    state["plugin"] = "os:system"
    (run / rundir.TOKENIZER).write_text(json.dumps(state))
    code, out = _mgen("sample", "--run", run, "-n", "5", "--out", run / "s")
    _assert_one_line_error(code, out, "unknown tokenizer 'os:system'")


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda b: b[: len(b) // 2], "truncated or corrupt"),
        (lambda b: b[:100], "truncated or corrupt"),
        (lambda b: b"", "truncated or corrupt"),
        # Random bytes may look like a foreign pickle (refused) or like nothing (corrupt).
        (lambda b: random.Random(1).randbytes(len(b)), "truncated or corrupt|refusing to load"),
        (lambda b: b[:2000] + bytes(len(b) - 2000), "truncated or corrupt"),
    ],
    ids=["half", "100-bytes", "empty", "random-bytes", "zeroed-tail"],
)
def test_a_corrupted_checkpoint_gives_a_clear_error(run, damage, expected):
    path = run / rundir.CHECKPOINT
    path.write_bytes(damage(path.read_bytes()))
    code, out = _mgen("train", "--resume", "--out", run, "--max-steps", "6", "--quiet")
    _assert_one_line_error(code, out, str(path))
    assert any(text in out for text in expected.split("|")), out


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupted_weights_or_json_give_a_clear_error(run, tmp_path, damage):
    for name in (rundir.WEIGHTS, rundir.TOKENIZER, rundir.CONFIG):
        copy = Path(shutil.copytree(run, tmp_path / f"{damage}-{name}"))
        raw = (copy / name).read_bytes()
        (copy / name).write_bytes(
            raw[: len(raw) // 3] if damage == "truncate" else b"\x00\xff" * 64
        )
        code, out = _mgen("sample", "--run", copy, "-n", "5", "--out", tmp_path / "s")
        if name == rundir.CONFIG:  # no readable config.json: not a run directory at all
            _assert_one_line_error(code, out, str(copy))
        else:
            _assert_one_line_error(code, out, str(copy / name))


def test_a_corrupted_metrics_csv_gives_a_clear_error(run):
    (run / history.METRICS).write_bytes(b"epoch,step\n1,\x00\xff\xfe\n")
    code, out = _mgen("train", "--resume", "--out", run, "--max-steps", "6", "--quiet")
    _assert_one_line_error(code, out, f"cannot read {run / history.METRICS}")


@pytest.mark.parametrize("other", ["other_vocab", "gru"])
def test_files_from_another_pairing_are_refused(runs, run, tmp_path, other):
    """A checkpoint, weights or tokenizer from a run with another vocabulary or model."""
    theirs = runs[other]
    mixed = Path(shutil.copytree(run, tmp_path / "ck"))
    shutil.copy(theirs / rundir.CHECKPOINT, mixed / rundir.CHECKPOINT)
    code, out = _mgen("train", "--resume", "--out", mixed, "--max-steps", "6", "--quiet")
    _assert_one_line_error(code, out, "does not fit this run")

    mixed = Path(shutil.copytree(run, tmp_path / "weights"))
    shutil.copy(theirs / rundir.WEIGHTS, mixed / rundir.WEIGHTS)
    code, out = _mgen("sample", "--run", mixed, "-n", "5", "--out", tmp_path / "s")
    _assert_one_line_error(code, out, "do not fit this model/tokenizer pairing")

    if other == "other_vocab":
        mixed = Path(shutil.copytree(run, tmp_path / "tok"))
        shutil.copy(theirs / rundir.TOKENIZER, mixed / rundir.TOKENIZER)
        code, out = _mgen("sample", "--run", mixed, "-n", "5", "--out", tmp_path / "s")
        _assert_one_line_error(code, out, "vocabulary size does not match tokenizer.json")
