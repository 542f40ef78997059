"""verovio, the engraving library, run in a child process.

verovio aborts the whole process on some malformed input (a C++ exception it does not catch:
**kern with a wrong number of fields ends in `std::length_error` and `terminate`), so mgen never
calls it in its own process. One child (spawned, so no torch threads are forked) serves every
call and is started again after a crash or a timeout.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any

OK, UNREADABLE, CRASHED, TIMEOUT, MISSING = "ok", "unreadable", "crashed", "timeout", "missing"
MAX_PAGES = 4

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def installed() -> bool:
    try:
        import verovio  # noqa: F401 - optional: the `web` extra installs it
    except ImportError:
        return False
    return True


def _quiet() -> None:
    """In the child: verovio's C++ messages (and `terminate`'s) go nowhere."""
    import os

    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)


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


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn"), initializer=_quiet
            )
        return _pool


def _discard(pool: ProcessPoolExecutor) -> None:
    """Stop a broken or stuck child; the next call starts a new one."""
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    for proc in list(getattr(pool, "_processes", {}).values()):  # a stuck child: no API stops it
        proc.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def run(
    text: str, options: dict[str, Any] | None = None, timeout: float = 60
) -> tuple[str, str | None]:
    """(status, SVG or None): OK, UNREADABLE (verovio says it cannot load it), CRASHED (it
    took its process down), TIMEOUT, or MISSING (verovio is not installed)."""
    if not installed():
        return MISSING, None
    pool = _executor()
    try:
        return pool.submit(_child, text, options).result(timeout)
    except BrokenProcessPool:
        _discard(pool)
        return CRASHED, None
    except FutureTimeout:
        _discard(pool)
        return TIMEOUT, None
