"""Generation off the event loop: at most `workers` jobs run (each in a thread), at most
`max_waiting` wait behind them in arrival order; one more is refused at once (HTTP 503), so a
burst never piles up unbounded work and the page's other requests are answered meanwhile."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread

T = TypeVar("T")


class Busy(Exception):
    """The queue is full; the client should try again shortly."""


class JobQueue:
    def __init__(self, workers: int = 1, max_waiting: int = 64):
        if workers < 1 or max_waiting < 0:
            raise ValueError("workers must be >= 1 and max_waiting >= 0")
        self.workers = workers
        self.max_waiting = max_waiting
        self.waiting = 0
        self.running = 0
        self.done = 0
        self._slots: asyncio.Semaphore | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        if self._slots is None:  # made on first use, inside the server's event loop
            self._slots = asyncio.Semaphore(self.workers)
        return self._slots

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` in a worker thread once a slot is free; Busy when full."""
        slots = self._semaphore()
        if self.waiting >= self.max_waiting and slots.locked():
            raise Busy(
                f"the server is busy: {self.running} generating, {self.waiting} waiting "
                f"(at most {self.max_waiting}); try again in a moment"
            )
        self.waiting += 1
        try:
            await slots.acquire()
        finally:
            self.waiting -= 1
        self.running += 1
        try:
            return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))
        finally:
            self.running -= 1
            self.done += 1
            slots.release()

    def reset(self) -> None:
        """Forget the semaphore: the next job makes one in the loop that is running then."""
        self._slots = None

    def status(self) -> dict[str, int]:
        return {
            "workers": self.workers,
            "running": self.running,
            "waiting": self.waiting,
            "max_waiting": self.max_waiting,
            "done": self.done,
        }
