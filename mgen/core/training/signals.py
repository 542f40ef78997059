"""Process-wide settings of a training process: how it stops, how many threads it uses."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator

import torch

__all__ = ["set_threads", "sigterm_as_interrupt", "stop_requested"]


_STOP = {"requested": False}


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler, `kill`, torchrun stopping its workers) stops training the way
    Ctrl-C does: a checkpoint, then exit. The handler only records the request; the training
    loop raises KeyboardInterrupt at its next step (`stop_requested`), since an exception
    raised inside the handler can land in a finalizer, where Python swallows it. A second
    SIGTERM raises at once. Only the main thread may install handlers."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if _STOP["requested"]:
            raise KeyboardInterrupt
        _STOP["requested"] = True

    _STOP["requested"] = False
    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)
        _STOP["requested"] = False


def stop_requested() -> bool:
    """Whether SIGTERM asked the training under `sigterm_as_interrupt` to stop."""
    return _STOP["requested"]


def set_threads() -> None:
    """Use every core for intra-op work unless the user set OMP/torch threads themselves."""
    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(os.cpu_count() or 1)
