"""Signals to a running `mgen serve` (a real process on a free 127.0.0.1 port): SIGTERM and
SIGINT end it with every child process it started gone; after SIGKILL its children end by
themselves and a new server starts on the same port and serves (docs/web.md, Guarantees)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="mgen serve needs the web extra: pip install 'mgen[web]'")
pytest.importorskip("verovio", reason="mgen serve needs the web extra: pip install 'mgen[web]'")

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")

MODEL = "pretrained:folk-abc"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http(url: str, body: dict | None = None, timeout: float = 60) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data, {"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, json.loads(r.read())


def _parent(pid: int) -> int | None:
    """A live process's parent (None when gone, or a zombie: it runs nothing any more)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid = stat.rsplit(")", 1)[1].split()[:2]
    return None if state in ("Z", "X") else int(ppid)


def descendants(root: int) -> dict[int, str]:
    """{pid: command line} of every live process whose chain of parents leads to `root`."""
    parents = {
        int(p.name): _parent(int(p.name)) for p in Path("/proc").iterdir() if p.name.isdigit()
    }
    found: dict[int, str] = {}
    for pid in parents:
        up = parents.get(pid)
        while up is not None and up != root and up > 1:
            up = parents.get(up)
        if up == root and parents[pid] is not None:
            raw = (
                Path(f"/proc/{pid}/cmdline").read_bytes() if Path(f"/proc/{pid}").exists() else b""
            )
            found[pid] = raw.replace(b"\0", b" ").decode(errors="replace")
    return found


def _alive(pids) -> list[int]:
    return [pid for pid in pids if _parent(pid) is not None]


def start_server(port: int, runs: Path) -> subprocess.Popen:
    """`mgen serve` in a process of its own, once it answers."""
    cmd = [sys.executable, "-m", "mgen", "serve", "--port", str(port), "--runs", str(runs)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        try:
            if _http(f"http://127.0.0.1:{port}/api/models", timeout=2)[0] == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("mgen serve did not start")


def busy_server(port: int, runs: Path) -> tuple[subprocess.Popen, dict[int, str]]:
    """A server that has generated and engraved a batch, so it has children (a worker
    process and the worker's verovio process); with them, its descendants by pid."""
    proc = start_server(port, runs)
    base = f"http://127.0.0.1:{port}"
    status, batch = _http(f"{base}/api/generate", {"model": MODEL, "length": 30, "num_samples": 1})
    assert status == 200 and batch["samples"][0]["svg"]
    kids = descendants(proc.pid)
    assert len(kids) >= 2, kids  # the test checks real children
    return proc, kids


def orphans(server: int) -> list[int]:
    """Worker processes anywhere that were started by `server` (their command names it)."""
    found = []
    for p in Path("/proc").iterdir():
        try:
            argv = (p / "cmdline").read_bytes().split(b"\0") if p.name.isdigit() else []
        except OSError:
            continue
        if b"mgen.web.engine:serve" in argv and str(server).encode() in argv:
            found.append(int(p.name))
    return _alive(found)


def assert_all_gone(pids, within: float = 10) -> None:
    deadline = time.monotonic() + within
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = {pid: Path(f"/proc/{pid}/cmdline").read_bytes()[:120] for pid in _alive(pids)}
    assert not left, f"child processes outlived the server: {left}"


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_ends_the_server_and_every_child_it_started(tmp_path: Path, sig: int):
    proc, kids = busy_server(_free_port(), tmp_path)
    os.kill(proc.pid, sig)
    proc.wait(60)
    assert_all_gone(kids, within=5)  # stopped by the server itself (resource trackers too)
    assert not orphans(proc.pid)


@pytest.mark.slow
def test_after_sigkill_the_children_end_and_a_restart_on_the_same_port_serves(tmp_path: Path):
    port = _free_port()
    proc, kids = busy_server(port, tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    assert_all_gone(kids, within=10)  # each child sees its parent gone and ends
    assert not orphans(proc.pid)
    again = start_server(port, tmp_path)
    try:
        body = {"model": MODEL, "length": 20, "num_samples": 1}
        status, batch = _http(f"http://127.0.0.1:{port}/api/generate", body)
        assert status == 200 and batch["samples"]
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(60)
