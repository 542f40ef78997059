"""verovio, the engraving library, run in a child process; and the child-process plumbing that
`mgen serve`'s job workers (`mgen.web.worker`) share.

verovio aborts the whole process on some malformed input (a C++ exception it does not catch:
**kern with a wrong number of fields ends in `std::length_error` and `terminate`), so mgen never
calls it in its own process. One child serves every call and is started again after a crash or
a timeout.

A child is a fresh interpreter (`subprocess`, so no torch threads are forked and no
multiprocessing resource tracker is started) that answers pickled requests over a socket pair.
It ends by itself when its parent dies, however the parent dies (SIGKILL included): a watchdog
thread sees the parent change, so no child outlives the process that started it.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

OK, UNREADABLE, CRASHED, TIMEOUT, MISSING = "ok", "unreadable", "crashed", "timeout", "missing"
CANCEL = ("cancel",)  # the parent's request to stop a job that sends events
MAX_PAGES = 4
WATCH_SECONDS = 0.25  # how often a child checks that its parent still lives

# Run in the child: the parent's import path (MGEN_SYS_PATH), then `main` below.
BOOTSTRAP = (
    "import json, os, sys; sys.path[:] = json.loads(os.environ.pop('MGEN_SYS_PATH')); "
    "from mgen.evaluate.verovio_box import main; main()"
)


class Child:
    """A Python child process answering requests one at a time over a socket pair.

    `target` is `"module:function"`, called in the child as `function(conn, parent_pid, *args)`.
    With `group`, the child leads a process group of its own (its own children join it) and
    `stop` ends the whole group; without, it stays in its parent's group.
    """

    def __init__(self, target: str, args: Sequence[str] = (), group: bool = False):
        self.target, self.args, self.group = target, [str(a) for a in args], group
        self.proc: subprocess.Popen[bytes] | None = None
        self.conn: Connection | None = None
        self.starts = 0  # how many children were started (a restart counts again)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        """A new child, unless one is running; it loads its modules while the caller goes on."""
        if self.alive():
            return
        self.stop()
        ours, theirs = socket.socketpair()
        argv = [sys.executable, "-c", BOOTSTRAP, self.target, str(theirs.fileno()),
                str(os.getpid()), *self.args]  # fmt: skip
        env = {**os.environ, "MGEN_SYS_PATH": json.dumps(sys.path)}
        try:
            self.proc = subprocess.Popen(
                argv, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, env=env,
                start_new_session=self.group,  # a group (and session) of its own from the start
            )  # fmt: skip
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        self.starts += 1

    def ask(
        self, request: Any, timeout: float, on_event: Callable[[Any], bool] | None = None
    ) -> Any:
        """The child's answer to `request`. TimeoutError when it takes longer than `timeout`
        seconds, EOFError when the child died on it or was stopped meanwhile. With `on_event`,
        the child may send ("event", value) messages before its answer: each is handed to
        `on_event`, and when that returns False the child is asked to stop (CANCEL)."""
        self.start()
        conn = self.conn  # `stop` from another thread may clear the attribute meanwhile
        assert conn is not None
        deadline, cancelled = time.monotonic() + timeout, False
        try:
            conn.send(request)
            while conn.poll(max(0.0, deadline - time.monotonic())):
                reply = conn.recv()
                if on_event is None or not _is_event(reply):
                    return reply
                if not on_event(reply[1]) and not cancelled:
                    conn.send(CANCEL)
                    cancelled = True
        except (OSError, ValueError):  # a reset or closed socket: the child is gone
            raise EOFError("the child process ended") from None
        raise TimeoutError(f"no answer in {timeout:g} s")

    def stop(self) -> None:
        """Kill the child (with its group, if it leads one) and reap it."""
        proc, conn, self.proc, self.conn = self.proc, self.conn, None, None
        if conn is not None:
            conn.close()
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if self.group:
                os.killpg(proc.pid, signal.SIGKILL)  # its own children go with it
            else:
                proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)


def _is_event(reply: Any) -> bool:
    return isinstance(reply, tuple) and len(reply) == 2 and reply[0] == "event"


def main() -> None:
    """In a child: `module:function(conn, parent_pid, *args)` from the command line."""
    import importlib

    target, fd, parent, *args = sys.argv[1:]
    module, name = target.split(":")
    getattr(importlib.import_module(module), name)(Connection(int(fd)), int(parent), *args)


def watch_parent(parent: int, group: bool = False) -> None:
    """In a child: end this process (and its group, if it leads one) once `parent` is gone.
    Polling suits every way a parent dies; PR_SET_PDEATHSIG fires when the parent's *thread*
    that started the child ends, which a server's worker threads do."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_SECONDS)
        if group:
            with contextlib.suppress(OSError):
                os.killpg(0, signal.SIGKILL)
        os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def answer(conn: Connection, handle: Callable[[Any], Any]) -> None:
    """In a child: answer each request with `handle(request)` until the parent hangs up."""
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):  # the parent hung up
            return
        if request == CANCEL:
            continue  # a job's stop that came after its answer: nothing to stop
        reply = handle(request)
        try:
            conn.send(reply)
        except OSError:  # the parent stopped waiting: nothing to do
            return


# -- verovio ------------------------------------------------------------------------------------

_lock = threading.Lock()
_box = Child("mgen.evaluate.verovio_box:serve")


def installed() -> bool:
    try:
        import verovio  # noqa: F401 - optional: the `web` extra installs it
    except ImportError:
        return False
    return True


def serve(conn: Connection, parent: int) -> None:
    """The child's main: verovio's C++ messages (and `terminate`'s) go nowhere; Ctrl-C in a
    terminal is for the parent, which stops this child itself."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch_parent(parent)
    answer(conn, lambda request: _child(*request))


def _child(text: str, options: dict[str, Any] | None) -> tuple[str, str | None]:
    """In the child: load `text`; with `options`, engrave it (at most MAX_PAGES pages of SVG)."""
    import contextlib
    import io
    from pathlib import Path

    import verovio

    verovio.enableLog(verovio.LOG_OFF)
    tk = verovio.toolkit()
    tk.setResourcePath(str(Path(verovio.__file__).parent / "data"))
    if options:
        tk.setOptions(options)
    with contextlib.redirect_stderr(io.StringIO()):
        if not tk.loadData(text):
            return UNREADABLE, None
        if not options:
            return OK, None
        pages = min(tk.getPageCount(), MAX_PAGES)
        svg = "".join(tk.renderToSVG(p) for p in range(1, pages + 1))
    return (OK, svg) if "<svg" in svg else (UNREADABLE, None)


def run(
    text: str, options: dict[str, Any] | None = None, timeout: float = 60
) -> tuple[str, str | None]:
    """(status, SVG or None): OK, UNREADABLE (verovio says it cannot load it), CRASHED (it
    took its process down), TIMEOUT, or MISSING (verovio is not installed)."""
    if not installed():
        return MISSING, None
    with _lock:
        try:
            return _box.ask((text, options), timeout)
        except EOFError:
            _box.stop()
            return CRASHED, None
        except TimeoutError:
            _box.stop()
            return TIMEOUT, None


def shutdown() -> None:
    """Stop the child now (it is started again by the next `run`)."""
    with _lock:
        _box.stop()


atexit.register(shutdown)
