"""Starting several training processes (torchrun) and knowing whether we are one of them.
Torch-free, so `mgen --nproc N` can relaunch itself without loading torch first."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence

DEFAULT_TIMEOUT = 600.0  # seconds a collective waits for a silent peer (torch's own default)
TIMEOUT_ENV = "MGEN_DIST_TIMEOUT"


def launched() -> bool:
    """True inside a torchrun worker of a job with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def env_rank() -> int:
    return int(os.environ.get("RANK", "0"))


def launch_command(nproc: int, args: Sequence[str]) -> list[str]:
    """`python -m torch.distributed.run` (torchrun) with N local workers running `mgen ARGS`."""
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={nproc}",
        "-m",
        "mgen",
        *args,
    ]


def launch(nproc: int, args: Sequence[str]) -> int:
    """Run `mgen ARGS` on `nproc` local processes under torchrun; returns its exit code."""
    proc = subprocess.Popen(launch_command(nproc, args))
    try:
        return proc.wait()
    except KeyboardInterrupt:
        # torchrun and its workers got the same Ctrl-C; let them checkpoint and stop.
        return proc.wait()
