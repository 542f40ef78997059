"""Jobs in worker processes, each within a time limit.

Every job of real size (generating, reading an uploaded primer, making MusicXML, judging a
batch, building a model's judge data) runs in a child process (`mgen.web.engine`), never in
the server. The server waits for a job's answer at most its time limit; past it, it kills the
child with its whole process group (the child's own children, such as verovio's, go with it),
answers the client with one line (HTTP 504), and starts a fresh child for the next job.

Each child leads a process group of its own, which the server ends when it stops (on SIGTERM
as on SIGINT); a child whose server dies without stopping it (SIGKILL) ends by itself within a
fraction of a second (`verovio_box.watch_parent`).
"""

from __future__ import annotations

import queue
import subprocess
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from mgen.core.contracts.errors import MgenError
from mgen.evaluate.verovio_box import Child
from mgen.web.queue import Busy


@dataclass(frozen=True)
class JobLimits:
    """How long work may take (the page reads them from /api/options)."""

    seconds: float = 60  # one job: generating, an upload, MusicXML, judging
    build_seconds: float = 1800  # building one model's judge data, in the background
    judge_wait: float = 20  # a judge request waits for that build at most this long

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TimedOut(MgenError):
    """A job ran past its time limit and was stopped (HTTP 504)."""


class WorkerDied(Busy):
    """A worker process ended in the middle of a job (HTTP 503: try again)."""


def _raise(kind: Any, message: str) -> None:
    """Raise the child's MgenError in the server, as the same class when it is one."""
    if isinstance(kind, type) and issubclass(kind, MgenError):
        try:
            error = kind(message)
        except Exception:  # noqa: BLE001 - a class with another constructor: its message stays
            error = MgenError(message)
        raise error
    raise MgenError(message)


class Worker:
    """One worker process: jobs one at a time, each within its time limit."""

    def __init__(self, name: str, nice: int = 0, warm: bool = False):
        self.name = name
        self.child = Child("mgen.web.engine:serve", [nice, int(warm)], group=True)
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        """Start the process now (it loads its modules while the server goes on)."""
        with self._lock:
            if not self._closed:
                self.child.start()

    def call(self, method: str, args: tuple[Any, ...], limit: float, what: str,
             stop_after: bool = False, on_event: Callable[[Any], bool] | None = None
             ) -> Any:  # fmt: skip
        """The job's result; its MgenError; TimedOut past `limit` seconds; WorkerDied when
        the process ended on it. `stop_after`: end the process once the job is done.
        `on_event`: each event a streaming job sends before its result (False: stop it)."""
        with self._lock:
            if self._closed:
                raise WorkerDied(f"{what}: the server is stopping")
            try:
                reply = self.child.ask((method, args), limit, on_event)
            except TimeoutError:
                self._restart()
                raise TimedOut(f"{what} took longer than {limit:g} s and was stopped") from None
            except EOFError:
                code = self._exit_status()
                self._restart()
                raise WorkerDied(
                    f"{what}: its worker process ended unexpectedly (exit status {code}); try again"
                ) from None
            finally:
                if stop_after:
                    self.child.stop()
        if reply[0] == "ok":
            return reply[1]
        if reply[0] == "error":
            _raise(reply[1], reply[2])
        raise RuntimeError(f"{what}: {reply[1]}")  # a bug in the worker: HTTP 500

    def _exit_status(self) -> int | None:
        """The ended child's exit status (negative: the signal that ended it)."""
        proc = self.child.proc
        try:
            return proc.wait(2) if proc else None
        except subprocess.TimeoutExpired:  # its socket closed, yet it runs on: `stop` ends it
            return None

    def _restart(self) -> None:
        """Kill the child and its group at once; a fresh one warms up for the next job."""
        self.child.stop()
        if not self._closed:
            self.child.start()

    def pid(self) -> int | None:
        return self.child.proc.pid if self.child.alive() and self.child.proc else None

    def stop(self) -> None:
        """End the process and its group for good (the server is stopping)."""
        self._closed = True
        self.child.stop()  # not under the lock: a running job then ends with WorkerDied


class Pool:
    """`size` workers; a job takes an idle one. The JobQueue in front of a pool lets at most
    `size` jobs in at once, so a job never waits here."""

    def __init__(self, name: str, size: int, nice: int = 0, warm: bool = False):
        self.workers = [Worker(f"{name}-{i + 1}", nice, warm) for i in range(size)]
        self._idle: queue.SimpleQueue[Worker] = queue.SimpleQueue()
        for w in self.workers:
            self._idle.put(w)

    def call(self, method: str, args: tuple[Any, ...], limit: float, what: str,
             on_event: Callable[[Any], bool] | None = None) -> Any:  # fmt: skip
        worker = self._idle.get()
        try:
            return worker.call(method, args, limit, what, on_event=on_event)
        finally:
            self._idle.put(worker)

    def start(self) -> None:
        for w in self.workers:
            w.start()

    def stop(self) -> None:
        for w in self.workers:
            w.stop()

    def pids(self) -> list[int]:
        return [pid for w in self.workers if (pid := w.pid()) is not None]
