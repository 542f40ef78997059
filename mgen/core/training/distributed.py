"""Training on several processes with PyTorch's own engine: torchrun, a process group and DDP.

torchrun starts one process per GPU (or per CPU slot) and tells each its place through RANK,
WORLD_SIZE and LOCAL_RANK; `setup` joins them into one process group (NCCL on CUDA, gloo on the
CPU) with a timeout, so a peer that dies or hangs ends the job instead of blocking it forever.
The engine asks the returned `Dist` for everything else: its share of a batch, sums over ranks,
whether it is rank 0 (the only one that prints and writes). Outside torchrun `Dist` is a single
process and every method is the identity, so one-process training is untouched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import os
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import TypeVar

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from mgen.core.contracts.errors import ConfigError, MgenError, one_line
from mgen.core.training.launch import DEFAULT_TIMEOUT, TIMEOUT_ENV, env_rank, launched

T = TypeVar("T")


class DistributedError(MgenError):
    """Another process of a distributed job died, hung or could not be reached."""


@dataclasses.dataclass(frozen=True)
class Dist:
    """This process's place in the job; a lone process is rank 0 of 1."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = dataclasses.field(default_factory=lambda: torch.device("cpu"))

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 alone shows progress and writes the run directory."""
        return self.rank == 0

    @property
    def is_local_main(self) -> bool:
        """The first process on each machine (it parses the corpus for its neighbours)."""
        return self.local_rank == 0

    def describe(self) -> str:
        return f" x {self.world} processes ({dist.get_backend()})" if self.active else ""

    def shard(self, rows: np.ndarray) -> np.ndarray:
        """This rank's contiguous share of `rows`: shares tile `rows` in rank order and differ
        in size by at most one, larger first, so rank 0 is empty only if `rows` is."""
        if not self.active:
            return rows
        return np.array_split(rows, self.world)[self.rank]

    def sum(self, values: Sequence[float]) -> list[float]:
        """Element-wise sums over all ranks (float64, so counts stay exact)."""
        if not self.active:
            return list(values)
        t = torch.tensor(list(values), dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return t.tolist()

    def mean(self, value: float) -> float:
        return self.sum([value])[0] / self.world if self.active else value

    def any(self, flag: bool) -> bool:
        """True on every rank if it is true on one (keeps stopping decisions in step)."""
        return self.sum([float(flag)])[0] > 0 if self.active else flag

    def barrier(self) -> None:
        if self.active:
            dist.barrier()

    def broadcast(self, obj: T) -> T:
        """Rank 0's `obj` on every rank (a small picklable value)."""
        if not self.active:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def all_gather(self, obj: T) -> list[T]:
        """Every rank's `obj` (a small picklable value, e.g. CPU tensors), in rank order."""
        if not self.active:
            return [obj]
        out: list = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def wrap(self, model: nn.Module) -> nn.Module:
        """DistributedDataParallel around `model`: backward all-reduces (averages) gradients."""
        if not self.active:
            return model
        ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def reseed(self, seed: int, step: int) -> None:
        """Seed this rank's dropout for `step` from (seed, step, rank) alone: ranks draw
        different masks, and a resumed run draws exactly what an uninterrupted one did."""
        if self.active:
            state = np.random.SeedSequence([seed, step, self.rank]).generate_state(1, np.uint64)
            torch.manual_seed(int(state[0]))


def setup(device: torch.device, timeout: float = DEFAULT_TIMEOUT) -> Dist:
    """Join torchrun's process group (once per process); a lone process gets `Dist()`."""
    if not launched():
        return Dist(device=device)
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = _local_gpu(device, local)
        backend = "nccl"
    elif device.type == "cpu":
        backend = "gloo"
    else:
        raise ConfigError(
            f"distributed training runs on CUDA GPUs (nccl) or the CPU (gloo), not {device.type}; "
            "pass --device cuda or --device cpu"
        )
    if not dist.is_initialized():
        dist.init_process_group(backend, timeout=timedelta(seconds=timeout))
    return Dist(dist.get_rank(), dist.get_world_size(), local, device)


def _local_gpu(device: torch.device, local: int) -> torch.device:
    """Each process drives the GPU numbered by its LOCAL_RANK."""
    if device.index is not None:
        raise ConfigError(
            f"--device {device} names one GPU, but under torchrun each process takes the GPU of "
            "its LOCAL_RANK; pass --device cuda (limit GPUs with CUDA_VISIBLE_DEVICES)"
        )
    count = torch.cuda.device_count()
    if local >= count:
        raise ConfigError(
            f"LOCAL_RANK {local} but this machine shows {count} CUDA GPU(s); "
            "start at most one process per GPU (--nproc-per-node)"
        )
    gpu = torch.device("cuda", local)
    torch.cuda.set_device(gpu)
    return gpu


def cleanup() -> None:
    """Leave the process group so its worker threads stop now, not during interpreter exit.

    A gloo group still alive at exit can abort the process ("terminate called without an
    active exception"); released DDP wrappers sit in reference cycles, hence the collection."""
    if dist.is_available() and dist.is_initialized():
        gc.collect()
        dist.destroy_process_group()


@contextlib.contextmanager
def guard(timeout: float) -> Iterator[None]:
    """Around a distributed command: name the rank in errors, turn a failed or timed-out
    collective into one clear line, and leave the process group on the way out."""
    if not launched():
        yield
        return
    rank, world = env_rank(), int(os.environ["WORLD_SIZE"])
    try:
        yield
    except RuntimeError as e:  # gloo and NCCL report a lost peer as a plain RuntimeError
        if not _collective_failure(e):
            cleanup()
            raise
        # No cleanup: tearing down a group whose peer is gone can itself block.
        raise DistributedError(
            f"rank {rank} of {world}: lost contact with the other processes ({one_line(e, 200)}); "
            "another rank probably died or hangs, see its messages; the wait limit is "
            f"{timeout:g}s (--dist-timeout or ${TIMEOUT_ENV})"
        ) from None
    except BaseException as e:  # errors and Ctrl-C: say which rank, leave the group
        cleanup()
        if isinstance(e, MgenError) and rank > 0:
            e.args = (f"rank {rank}: {e}",)
        raise
    else:
        cleanup()


def _collective_failure(e: RuntimeError) -> bool:
    if isinstance(e, dist.DistError):
        return True
    text = str(e).lower()
    return any(k in text for k in ("gloo", "nccl", "timed out", "connection closed", "c10d"))
