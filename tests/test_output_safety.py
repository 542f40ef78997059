"""Output safety: unwritable or full output folders give a clear error and leave nothing
half-written that looks valid; sampling never overwrites earlier samples unless asked.

A full disk is emulated with the kernel's per-process file size limit (RLIMIT_FSIZE) in a forked
child: writes past the limit fail mid-file with EFBIG exactly where a full disk fails with
ENOSPC, through the same system call and the same error paths. Tests run as root here, where
`chmod` does not stop writes, so an unwritable folder is a path under a regular file (mkdir
fails with ENOTDIR); the read-only-folder variant runs only for non-root users.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import SHARED_DATA, TINY
from conftest import assert_one_line_error as _assert_one_line_error
from conftest import mgen as _mgen
from safetensors.torch import load_file

from mgen.core.contracts import registry
from mgen.core.contracts.errors import DataError, MgenError
from mgen.core.contracts.io import read_json, write_text
from mgen.core.contracts.tokenizer import to_midi
from mgen.core.data.corpus import find_files
from mgen.core.runs import rundir
from mgen.core.training import history

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


def _limit_file_size(limit: int) -> None:
    torch.set_num_threads(1)  # a forked child must not enter the parent's OpenMP pool
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write instead of killing us
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))


def _on_full_disk(limit: int, fn, *args):
    """fn(*args) in a forked child whose files cannot grow past `limit` bytes; its result or
    exception comes back through a pipe (pipes are not files: the limit does not apply)."""
    ctx = mp.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def child() -> None:
        _limit_file_size(limit)
        try:
            send.send((True, fn(*args)))
        except BaseException as e:  # noqa: BLE001 - handed to the parent to re-raise
            send.send((False, e))

    proc = ctx.Process(target=child)
    proc.start()
    send.close()
    ok, value = receive.recv()
    proc.join()
    if not ok:
        raise value
    return value


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".*.tmp"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory, music21_corpus) -> Path:
    folder = tmp_path_factory.mktemp("abc")
    shutil.copy(music21_corpus / "essenFolksong" / "testd.abc", folder)
    run = tmp_path_factory.mktemp("runs") / "run"
    args = ["train", "--data", folder, "--out", run, "--max-steps", "4", "--checkpoint-every", "2"]
    code, out = _mgen(*args, *TINY)
    assert code == 0, out
    return run


# -- a full disk ---------------------------------------------------------------------------


def _big_state() -> dict:
    return {"model": {"w": torch.zeros(200_000)}, "progress": {"step": 99}}


@pytest.mark.parametrize("what", ["checkpoint", "weights", "metrics", "json"])
def test_a_full_disk_keeps_the_previous_file_whole(trained, tmp_path, what):
    run = Path(shutil.copytree(trained, tmp_path / "run"))
    name, write = {
        "checkpoint": (rundir.CHECKPOINT, lambda: rundir.save_checkpoint(run, _big_state())),
        "weights": (rundir.WEIGHTS, lambda: rundir.save_weights(run, torch.nn.Linear(500, 500))),
        "metrics": (history.METRICS, lambda: history.write_metrics(run, [{"step": 1}] * 20_000)),
        "json": (rundir.CONFIG, lambda: rundir.write_json(run / rundir.CONFIG, ["x" * 99] * 9999)),
    }[what]
    before = (run / name).read_bytes()
    with pytest.raises(MgenError, match=rf"cannot write {run / name}"):
        _on_full_disk(len(before) + 4096, write)
    assert (run / name).read_bytes() == before
    assert _leftovers(run) == []
    write()  # with room again the same write succeeds: the limit, not the code, stopped it
    assert (run / name).read_bytes() != before


def test_a_full_disk_mid_sample_leaves_no_half_written_sample(trained, tmp_path):
    out = tmp_path / "samples"
    args = ["sample", "--run", trained, "-n", "400", "--out", out, "--seed", "1"]
    code, output = _on_full_disk(8, _mgen, *args)  # not even the ABC header fits
    _assert_one_line_error(code, output, "cannot write", str(out / "sample-001"))
    assert _leftovers(out) == []
    assert list(out.glob("sample-*")) == [], "a half-written sample was left behind"


@pytest.mark.slow
def test_training_on_a_full_disk_stops_cleanly_and_resumes(trained, tmp_path):
    """End to end: the CLI in a subprocess whose files may not outgrow the first checkpoint."""
    run = Path(shutil.copytree(trained, tmp_path / "run"))
    before = (run / rundir.CHECKPOINT).read_bytes()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    args = ["train", "--resume", "--out", str(run), "--max-steps", "8", "--quiet"]
    limit = len(before) - 1  # the next checkpoint is as large: it cannot be written
    proc = subprocess.run([sys.executable, "-m", "mgen", *args], env=env, capture_output=True,
                          text=True, preexec_fn=lambda: _limit_file_size(limit), timeout=300)  # fmt: skip
    _assert_one_line_error(proc.returncode, proc.stderr, f"cannot write {run / rundir.CHECKPOINT}")
    assert (run / rundir.CHECKPOINT).read_bytes() == before
    assert _leftovers(run) == []
    load_file(str(run / rundir.WEIGHTS))
    code, out = _mgen("train", "--resume", "--out", run, "--max-steps", "8", "--quiet")
    assert code == 0, out
    ck = torch.load(run / rundir.CHECKPOINT, weights_only=True)
    assert ck["progress"]["step"] == 8


# -- an unwritable folder ------------------------------------------------------------------


def _unwritable(tmp_path: Path, kind: str) -> Path:
    if kind == "under-a-file":
        (tmp_path / "a-file").write_text("not a folder\n")
        return tmp_path / "a-file" / "out"
    if ROOT:
        pytest.skip("running as root: chmod does not stop root from writing")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    return folder / "out"


@pytest.mark.parametrize("kind", ["under-a-file", "read-only"])
def test_train_into_an_unwritable_folder(trained, tmp_path, kind):
    out = _unwritable(tmp_path, kind)
    data = read_json(trained / rundir.CONFIG)["train"]["data"][0]
    code, output = _mgen("train", "--data", data, "--out", out, "--max-steps", "2", *TINY)
    _assert_one_line_error(code, output, str(out))
    assert not out.exists()


@pytest.mark.parametrize("kind", ["under-a-file", "read-only"])
def test_sample_into_an_unwritable_folder(trained, tmp_path, kind):
    out = _unwritable(tmp_path, kind)
    code, output = _mgen("sample", "--run", trained, "-n", "20", "--out", out)
    _assert_one_line_error(code, output, str(out))
    assert not out.exists()


def test_atomic_write_to_an_unwritable_path_is_clear(tmp_path):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(MgenError, match="cannot write .*a-file/metrics.csv"):
        write_text(tmp_path / "a-file" / "metrics.csv", "step\n1\n")


# -- never overwrite samples ---------------------------------------------------------------


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def test_sampling_twice_into_one_folder_refuses(trained, tmp_path):
    out = tmp_path / "s"
    code, output = _mgen(
        "sample", "--run", trained, "--no-grammar", "-n", "40", "-k", "2", "--out", out
    )
    assert code == 0, output
    first = _snapshot(out)
    assert {"sample-001.abc", "sample-002.abc"} <= set(first)
    code, output = _mgen(
        "sample", "--run", trained, "--no-grammar", "-n", "40", "--seed", "5", "--out", out
    )
    _assert_one_line_error(code, output, "already holds sample-001.abc", "--force")
    assert _snapshot(out) == first

    code, output = _mgen("sample", "--run", trained, "--no-grammar", "-n", "40", "--seed", "5", "--out", out,
                         "--force")  # fmt: skip
    assert code == 0, output
    assert (out / "sample-001.abc").read_bytes() != first["sample-001.abc"][0]
    assert (out / "sample-002.abc").read_bytes() == first["sample-002.abc"][0]  # not asked for


def test_a_clash_on_a_later_sample_writes_nothing(trained, tmp_path):
    """With -k 3 and only sample-003 taken, nothing is written (not samples 1 and 2 first)."""
    out = tmp_path / "s"
    out.mkdir()
    (out / "sample-003.mid").write_bytes(b"earlier work")
    code, output = _mgen("sample", "--run", trained, "-n", "20", "-k", "3", "--out", out)
    _assert_one_line_error(code, output, "already holds sample-003.mid")
    assert sorted(p.name for p in out.iterdir()) == ["sample-003.mid"]
    assert (out / "sample-003.mid").read_bytes() == b"earlier work"


def test_default_sample_folders_never_collide(trained):
    folders = set()
    for _ in range(3):
        code, output = _mgen("sample", "--run", trained, "-n", "20")
        assert code == 0, output
        written = [Path(ln) for ln in output.splitlines() if ln.endswith(".abc")]
        assert len(written) == 1, output
        folders.add(written[0].parent)
    assert len(folders) == 3
    assert all(len(list(f.glob("sample-001.*"))) >= 1 for f in folders)


@pytest.mark.parametrize("name", registry.names("tokenizer"))
@pytest.mark.parametrize("method", ["write", "to_midi"])
def test_registered_tokenizers_write_atomically(tmp_path, name, method):
    """Every tokenizer's `write` and `to_midi` write atomically: no partial file on a full disk,
    and the error is a write error (not "could not convert to MIDI")."""
    tok = registry.load("tokenizer", name)()
    tokens = _some_tokens(tok, tmp_path)
    assert tokens, f"{name}: no real piece to write"
    folder = tmp_path / "out"
    folder.mkdir()
    write = _writer(tok, tokens, method, tmp_path / "native")
    write(tokens, folder / "piece")  # with room it works
    written = list(folder.iterdir())
    assert written and all(p.stat().st_size > 16 for p in written)
    for p in written:
        p.unlink()
    with pytest.raises(MgenError, match="cannot write") as info:
        _on_full_disk(16, write, tokens, folder / "piece")
    assert not isinstance(info.value, DataError), info.value
    assert list(folder.iterdir()) == [], f"{name}.{method} left {list(folder.iterdir())}"


def _writer(tok, tokens: list[str], method: str, elsewhere: Path):
    """`tok.write`, or the piece's MIDI from its native file (written in `elsewhere` first)."""
    if method == "write":
        return tok.write
    native = tok.write(tokens, elsewhere / "piece")
    return lambda tokens, path: to_midi(tok, tokens, path, native=native)


def _some_tokens(tok, folder: Path) -> list[str] | None:
    """Tokens of a real piece of the tokenizer's format (its dataset, ../shared/data)."""
    del folder
    files: list[Path] = []
    dataset = tok.recipe.dataset if tok.recipe.dataset in registry.names("dataset") else None
    if dataset and registry.load("dataset", dataset)().ready():
        files += registry.load("dataset", dataset)().files(progress=False)[:8]
    if SHARED_DATA.is_dir():
        files += find_files([SHARED_DATA], tok.format.patterns)[:8]
    for path in files:
        with contextlib.suppress(MgenError):
            pieces = tok.read(path)
            if pieces:
                return pieces[0]
    return None
