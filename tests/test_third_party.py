"""A real third-party package (tests/plugin_pkg) is built, pip-installed and used through the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TINY

from mgen.core import registry

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
