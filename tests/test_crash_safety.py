"""Crash safety: SIGKILL at random moments loses nothing, --resume is exact, Ctrl-C saves.

Every test here runs the real CLI (`python -m mgen train`) in a subprocess on a tiny model and a
few real ABC files, because a crash can only be tested by really killing a process.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from mgen.core.runs import rundir
from mgen.core.training import history

ABC_FILES = ("testd.abc", "teste.abc", "test1.abc", "erk5.abc")  # 63 tunes, ~11k tokens
TINY = [
    "--model", "lstm2", "--hidden-size", "32", "--embed-dim", "16", "--batch-size", "8",
    "--seq-len", "32", "--checkpoint-every", "2", "--device", "cpu", "--seed", "7",
    "--workers", "1", "--quiet",
]  # fmt: skip
STEPS = 300  # ~7 epochs of 42 batches: several epoch ends (metrics, best weights, plot) too


@pytest.fixture
def data(tmp_path: Path, music21_corpus: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ABC_FILES:
        shutil.copy(music21_corpus / "essenFolksong" / name, folder / name)
    return folder


def _env(tmp_path: Path) -> dict[str, str]:
    # One thread: bit-exact CPU results and no fight over the machine's cores.
    return {**os.environ, "OMP_NUM_THREADS": "1", "MGEN_CACHE_DIR": str(tmp_path / "cache")}


def _train(tmp_path: Path, *args: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "mgen", "train", *args]
    # Ctrl-C as a terminal delivers it, even when the tests themselves were started in the
    # background by a shell, which leaves SIGINT ignored in every process it starts.
    default_sigint = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731
    return subprocess.Popen(cmd, cwd=tmp_path, env=_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)  # fmt: skip


def _wait_for_training(proc: subprocess.Popen, timeout: float = 120) -> list[str]:
    """Read stderr until the CLI says it starts training (data loaded, model built)."""
    lines, end = [], time.monotonic() + timeout
    while time.monotonic() < end:
        line = proc.stderr.readline()
        if not line:  # the process ended first
            return lines
        lines.append(line)
        if line.startswith("training "):
            return lines
    raise AssertionError(f"training did not start within {timeout}s: {''.join(lines)}")


def _finish(proc: subprocess.Popen, timeout: float = 300) -> tuple[int, str]:
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def _assert_consistent(run: Path) -> int:
    """Every file a kill can leave is complete; returns the checkpoint's step (0 if none)."""
    for name in (rundir.CONFIG, rundir.TOKENIZER):
        if (run / name).exists():
            json.loads((run / name).read_text(encoding="utf-8"))
    if (run / rundir.WEIGHTS).exists():
        load_file(str(run / rundir.WEIGHTS))
    if (run / history.CURVE).exists():
        png = (run / history.CURVE).read_bytes()
        assert png.startswith(b"\x89PNG") and png.endswith(b"IEND\xaeB`\x82"), "truncated loss.png"
    if (run / history.METRICS).exists():
        text = (run / history.METRICS).read_text(encoding="utf-8")
        assert text.endswith("\n"), "metrics.csv does not end with a complete line"
        rows = list(csv.reader(text.splitlines()))
        assert rows[0] == history.METRIC_FIELDS
        assert all(len(r) == len(rows[0]) for r in rows[1:]), "metrics.csv has a broken row"
    if not (run / rundir.CHECKPOINT).exists():
        return 0
    ck = torch.load(run / rundir.CHECKPOINT, map_location="cpu", weights_only=True)
    assert {"model", "optimizer", "progress", "rng"} <= set(ck)
    return ck["progress"]["step"]


def _final_state(run: Path) -> tuple[dict, dict, dict]:
    ck = torch.load(run / rundir.CHECKPOINT, map_location="cpu", weights_only=True)
    return ck["model"], ck["optimizer"], load_file(str(run / rundir.WEIGHTS))


def _assert_same_tensors(a, b, where: str) -> None:
    """Recursively equal; tensors bit for bit."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and torch.equal(a, b), f"{where} differs"
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), f"{where}: keys differ"
        for k in a:
            _assert_same_tensors(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), f"{where}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same_tensors(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _checkpoint_step(run: Path) -> int:
    path = run / rundir.CHECKPOINT
    if not path.exists():
        return 0
    return torch.load(path, map_location="cpu", weights_only=True)["progress"]["step"]


def _kill_when(proc: subprocess.Popen, run: Path, step: int, delay: float) -> None:
    """SIGKILL `delay` seconds after the checkpoint reaches `step` (0: after the launch)."""
    end = time.monotonic() + 180
    while step and _checkpoint_step(run) < step:
        assert proc.poll() is None, f"run ended before step {step}: {_finish(proc)[1]}"
        assert time.monotonic() < end, f"no checkpoint at step {step} within 180s"
        time.sleep(0.02)
    time.sleep(delay)
    assert proc.poll() is None, f"run ended before it could be killed: {_finish(proc)[1]}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_is_exact(tmp_path: Path, data: Path) -> None:
    common = ["--data", str(data), *TINY, "--max-steps", str(STEPS), "--out"]
    # The uninterrupted reference run trains alongside the killed one.
    reference = _train(tmp_path, *common, "reference")
    rng = random.Random(20240613)
    # Kill 1 at a random moment after launch (imports, data loading, the first steps); the
    # others at random moments after random steps, so kills spread over the whole run.
    moments = [(0, rng.uniform(0.5, 4.0))]
    moments += [(t, rng.uniform(0.0, 0.25)) for t in sorted(rng.sample(range(2, STEPS - 60), 4))]
    run = tmp_path / "crashed"
    proc = _train(tmp_path, *common, "crashed")
    steps_seen, mid_write = [0], 0
    for step, delay in moments:
        _kill_when(proc, run, step, delay)
        mid_write += any(run.glob(".*.tmp"))
        now = _assert_consistent(run)
        assert now >= steps_seen[-1], f"checkpoint went back from {steps_seen[-1]} to {now}"
        steps_seen.append(now)
        if (run / rundir.CONFIG).exists():
            proc = _train(tmp_path, "--resume", "--out", "crashed", "--quiet")
        else:  # killed before the run directory was written: the user starts it again
            proc = _train(tmp_path, *common, "crashed")
    code, err = _finish(proc)
    assert code == 0, err
    code, ref_err = _finish(reference)
    assert code == 0, ref_err

    assert not list(run.glob(".*.tmp")), "temporary files of killed writes were not cleaned up"
    model, optim, best = _final_state(run)
    ref_model, ref_optim, ref_best = _final_state(tmp_path / "reference")
    _assert_same_tensors(model, ref_model, "final weights")
    _assert_same_tensors(optim, ref_optim, "optimizer state")
    _assert_same_tensors(best, ref_best, "model.safetensors")
    # Everything but wall-clock timings must match the uninterrupted run row for row.
    cols = [c for c in history.METRIC_FIELDS if c not in ("elapsed_s", "tokens_per_s")]
    rows = [[r[c] for c in cols] for r in history.read_metrics(run)]
    ref_rows = [[r[c] for c in cols] for r in history.read_metrics(tmp_path / "reference")]
    assert rows == ref_rows, "metrics.csv lost, repeated or changed rows"
    print(
        f"kill moments {moments}; checkpoint steps after each kill {steps_seen}; "
        f"kills that interrupted a write: {mid_write}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_saves_a_checkpoint_and_exits_130(
    tmp_path: Path, data: Path, sig: signal.Signals
) -> None:
    """Ctrl-C, and SIGTERM as a scheduler or `kill` sends it, both checkpoint then stop."""
    common = ["--data", str(data), *TINY]
    proc = _train(tmp_path, *common, "--max-steps", "100000", "--out", "run")
    _wait_for_training(proc)
    time.sleep(1.0)
    proc.send_signal(sig)
    code, err = _finish(proc, timeout=60)
    assert code == 130, err
    saved = [ln for ln in err.splitlines() if ln.startswith("interrupted: checkpoint saved")]
    assert saved, err
    assert "Traceback" not in err
    step = _assert_consistent(tmp_path / "run")
    assert f"at step {step};" in saved[0], (saved[0], step)
    assert step > 0

    stale = tmp_path / "run" / ".checkpoint.pt.k1ll3d.tmp"  # as a kill mid-write leaves it
    stale.write_bytes(b"half a checkpoint")
    proc = _train(tmp_path, "--resume", "--out", "run", "--max-steps", str(step + 2), "--quiet")
    code, err = _finish(proc)
    assert code == 0, err
    assert f"at step {step} " in err, err
    assert _assert_consistent(tmp_path / "run") == step + 2
    assert not stale.exists(), "resume did not clean up a killed write's temporary file"


_KILLED_MID_WRITE = """
import os, signal, sys
from pathlib import Path
from mgen.core.contracts.io import atomic_path, write_text

target = Path(sys.argv[1])
write_text(target, "step\\n1\\n")
with atomic_path(target) as tmp, open(tmp, "w") as f:
    f.write("step\\n1\\n2")
    f.flush()
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_kill_in_the_middle_of_a_write_keeps_the_old_file(tmp_path: Path) -> None:
    """Deterministic: SIGKILL while the new metrics.csv is half written (random kills above
    rarely land inside a write, which takes milliseconds)."""
    target = tmp_path / history.METRICS
    proc = subprocess.run([sys.executable, "-c", _KILLED_MID_WRITE, str(target)], timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert target.read_text() == "step\n1\n", "the old file was damaged"
    (left,) = tmp_path.glob(".*.tmp")  # the half-written new version, under a name no one reads
    assert left.read_text() == "step\n1\n2"
    rundir.remove_stale_temps(tmp_path)
    assert not list(tmp_path.glob(".*.tmp"))
