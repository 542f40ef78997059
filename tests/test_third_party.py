"""A real third-party package (tests/plugin_pkg) is built, pip-installed and used through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TINY

from mgen.core.contracts import registry

PKG = Path(__file__).parent / "plugin_pkg"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """pip-install the toy plugin package into a fresh folder and put it on sys.path."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-cache-dir",
            "--target",
            str(target),
            str(PKG),
        ],
        check=True,
        cwd=build,
    )
    sys.path.insert(0, str(target))
    registry.refresh()
    yield target
    sys.path.remove(str(target))
    for name in [m for m in sys.modules if m.startswith("mgen_toy_plugin")]:
        del sys.modules[name]
    registry.refresh()


def test_third_party_plugins_are_listed_with_their_package(cli, installed):
    out = cli("plugins").output
    assert "toy-mlp" in out and "min-p" in out
    assert "[mgen-toy-plugin 0.2.0]" in out
    broken = next(line for line in out.splitlines() if line.strip().startswith("broken"))
    assert "BROKEN" in broken and "not installed (on purpose)" in broken
    assert "lstm2" in out  # the broken plugin breaks nothing else


def test_train_and_sample_with_third_party_model_and_decoder(cli, installed, abc_folder, tmp_path):
    run = tmp_path / "run"
    result = cli(
        "train",
        "--data",
        abc_folder,
        "--model",
        "toy-mlp",
        "-M",
        "width=12",
        "--max-steps",
        "3",
        "--out",
        run,
        *TINY[4:],
    )
    assert result.exit_code == 0, result.output
    result = cli(
        "sample",
        "--run",
        run,
        "--decoder",
        "min-p",
        "--temperature",
        "0.9",
        "-n",
        "50",
        "--out",
        tmp_path / "s",
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "s" / "sample-001.abc").exists()


def test_using_a_broken_plugin_is_a_clear_error(cli, installed):
    result = cli("sample", "--decoder", "broken")
    assert result.exit_code != 0
    assert "decoder 'broken' is broken: ImportError" in result.output


def test_toy_tokenizer_trains_on_its_dataset_samples_is_judged_and_rendered(
    cli, installed, tmp_path
):
    """The toy `.notes` tokenizer and its dataset, written only from docs/plugins.md, go
    through every command like a built-in format."""
    listed = cli("plugins").output
    assert "toy-notes" in listed and "toy-scales" in listed
    rows = cli("data", "list").output
    assert any(line.startswith("toy-scales") and "toy-notes" in line for line in rows.splitlines())
    run = tmp_path / "run"
    result = cli("train", "--tokenizer", "toy-notes", "--max-steps", "20", "--out", run,
                 "--seq-len", "16", *TINY[:4], *TINY[6:8], *TINY[10:])  # fmt: skip
    assert result.exit_code == 0, result.output
    # The dataset's 3 files of 12 keys each; a file's pieces stay on one side of the split.
    assert "24 training pieces" in result.output and "12 validation pieces" in result.output
    out = tmp_path / "s"
    result = cli("sample", "--run", run, "-n", "40", "-k", "3", "--out", out, "--seed", "2")
    assert result.exit_code == 0, result.output
    assert (out / "sample-001.notes").exists() and (out / "sample-001.mid").exists()
    report = tmp_path / "eval.json"
    judged = cli("eval", out / "sample-001.notes", "--reference", "toy-scales", "--json", report)
    assert judged.exit_code == 0, judged.output
    assert "reference: toy-scales" in judged.output
    # Judged through the plugin's format: its notes read, its own checks run, its melodies
    # (the tokenizer's judge protocol) indexed for copies.
    toy = json.loads(report.read_text())["formats"]["toy-notes"]
    assert (toy["files"], toy["valid"]) == (1, 1) and toy["notes"] > 0
    assert "toy-notes: 1 file(s)" in judged.output
    rendered = cli("render", out / "sample-001.notes", "--png", "--out", tmp_path / "png")
    assert rendered.exit_code == 0, rendered.output
    png = tmp_path / "png" / "sample-001.png"
    assert png.read_bytes().startswith(b"\x89PNG")


def test_toy_plugin_is_written_to_the_current_contract(installed):
    """tests/plugin_pkg builds on `mgen.plugin` only: importing it warns of nothing deprecated,
    and its tokenizer has the base class's members, its own format and the judge protocol."""
    code = "import mgen_toy_plugin.tokenizer, mgen_toy_plugin.dataset, mgen_toy_plugin.model"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(installed), *sys.path])}
    done = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", code],
                          env=env, capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    from mgen.core.contracts import judge
    from mgen.core.contracts.formats import format_of

    cls = registry.load("tokenizer", "toy-notes")
    assert format_of(Path("x.notes")) is cls.format and cls.recipe.dataset == "toy-scales"
    assert judge.has_melody(cls()) and judge.melody(cls(), ["60:4", "r:2", "62:2"]) == [60, 62]


def test_a_name_registered_twice_warns_and_the_first_wins(monkeypatch):
    from importlib.metadata import EntryPoint

    first = EntryPoint("argmax", "mgen.plugins.decoders.sampling:Argmax", "mgen.decoders")
    second = EntryPoint("argmax", "elsewhere:Argmax", "mgen.decoders")
    monkeypatch.setattr(registry, "entry_points", lambda group: [first, second])
    registry.refresh()
    try:
        [message] = registry.duplicates("decoder")
        assert "'argmax'" in message and "elsewhere:Argmax" in message
        with pytest.warns(registry.DuplicatePluginWarning, match="argmax"):
            cls = registry.load("decoder", "argmax")
        assert cls.__module__ == "mgen.plugins.decoders.sampling"
    finally:
        monkeypatch.undo()
        registry.refresh()


def test_third_party_shipped_model_is_listed_and_sampled(cli, installed, tmp_path, monkeypatch):
    """The toy package ships a trained run under `mgen.pretrained`: listed by `mgen models`,
    sampled by name after the pip install, its samples written to the current folder."""
    line = next(ln for ln in cli("models").output.splitlines() if "toy-scales" in ln)
    assert "toy-notes/lstm2" in line and "[mgen-toy-plugin 0.2.0]" in line
    monkeypatch.chdir(tmp_path)
    result = cli("sample", "--run", "toy-scales", "--decoder", "argmax", "-n", "40")
    assert result.exit_code == 0, result.output
    [folder] = (tmp_path / "runs" / "toy-scales" / "samples").iterdir()
    assert (folder / "sample-001.notes").exists() and (folder / "sample-001.mid").exists()
    shipped = installed / "mgen_toy_plugin" / "pretrained" / "toy_scales"
    assert not (shipped / "samples").exists()
