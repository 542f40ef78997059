"""Shared fixtures: an isolated cache, the CLI runner, real corpus files and ../shared/data."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory):
    """Tests never read or write the user's cache."""
    old = os.environ.get("MGEN_CACHE_DIR")
    os.environ["MGEN_CACHE_DIR"] = str(tmp_path_factory.mktemp("mgen-cache"))
    yield
    if old is None:
        os.environ.pop("MGEN_CACHE_DIR", None)
    else:
        os.environ["MGEN_CACHE_DIR"] = old


@pytest.fixture
def cli():
    """Run `mgen ARGS...` in-process; returns typer's Result (stdout, stderr, exit_code)."""
    from mgen.cli.app import app

    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return run


@pytest.fixture
def shared_data() -> Path:
    """The seeds' real datasets beside the checkout; skipped with a reason where absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"{SHARED_DATA} is absent (it sits beside the checkout in CI, not in user clones)"
        )
    return SHARED_DATA


@pytest.fixture(scope="session")
def music21_corpus() -> Path:
    import music21

    return Path(music21.__file__).parent / "corpus"


@pytest.fixture
def abc_folder(tmp_path: Path, music21_corpus: Path) -> Path:
    """A small real ABC corpus: one Essen collection file (107 German ballads)."""
    import shutil

    folder = tmp_path / "abc"
    folder.mkdir()
    shutil.copy(music21_corpus / "essenFolksong" / "ballad10.abc", folder)
    return folder


#: A model small enough that a few training steps take well under a second.
TINY = [
    "--hidden-size",
    "32",
    "--embed-dim",
    "16",
    "--batch-size",
    "8",
    "--seq-len",
    "32",
    "--device",
    "cpu",
    "--quiet",
]


def mgen(*args) -> tuple[int, str]:
    """Run the CLI in-process and return (exit code, combined output)."""
    from mgen.cli.app import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def assert_one_line_error(code: int, output: str, *expected: str) -> None:
    """A user mistake: non-zero exit, no traceback, exactly one `Error:` line naming `expected`."""
    assert code not in (0, 130), output
    assert "Traceback" not in output
    lines = [ln for ln in output.strip().splitlines() if ln.startswith("Error: ")]
    assert len(lines) == 1, output
    for text in expected:
        assert text in lines[0], lines[0]


@pytest.fixture(scope="module")
def testd_abc(tmp_path_factory: pytest.TempPathFactory, music21_corpus: Path) -> Path:
    """A folder holding one small real ABC collection (Essen's testd.abc)."""
    import shutil

    folder = tmp_path_factory.mktemp("abc")
    shutil.copy(music21_corpus / "essenFolksong" / "testd.abc", folder)
    return folder


@pytest.fixture(scope="module")
def testd_run(tmp_path_factory: pytest.TempPathFactory, testd_abc: Path) -> Path:
    """A tiny abc-char run trained for 2 steps on `testd_abc`, through the CLI."""
    run = tmp_path_factory.mktemp("runs") / "run"
    code, out = mgen("train", "--data", testd_abc, "--out", run, "--max-steps", "2", *TINY)
    assert code == 0, out
    return run


def write_midi(path: Path, pitches, step: float = 0.25) -> Path:
    """A one-track MIDI file of `pitches`, one after another, each `step` seconds long."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(program=0)
    for i, p in enumerate(pitches):
        inst.notes.append(pretty_midi.Note(90, int(p), i * step, (i + 1) * step))
    pm.instruments.append(inst)
    pm.write(str(path))
    return path


@pytest.fixture(scope="session")
def chorale_midi(tmp_path_factory: pytest.TempPathFactory, music21_corpus: Path) -> Path:
    """A Bach chorale written as MIDI by the bach-midi builder (two written, one worker)."""
    from mgen.plugins.datasets.bach_midi import build_midi_dataset

    sources = [music21_corpus / "bach" / "bwv10.7.mxl", music21_corpus / "bach" / "bwv1.6.mxl"]
    dest = tmp_path_factory.mktemp("bach-midi")
    files = build_midi_dataset(sources, music21_corpus, dest, workers=1)
    assert [f.name for f in files] == ["bwv10.7.mid", "bwv1.6.mid"]
    assert (dest / "index.json").is_file()
    return files[0]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(app):
    """`app` under uvicorn on 127.0.0.1 in a thread, for the browser tests; its base URL."""
    import threading
    import time

    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=(port := free_port()), log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(30)
