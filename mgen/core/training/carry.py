"""The recurrent state carried from one training window to the next (truncated BPTT).

A state is whatever a model's `forward` returns: a tensor or (nested) tuples/lists of them. The
trainer keeps one per group of rows being read (a dict), and checkpoints hold them all.
Between windows it is detached, so gradients stop at the window's start while the values flow
on; checkpoints keep it, so a resumed run continues each lane exactly."""

from __future__ import annotations

from typing import Any

import torch

from mgen.core.training.distributed import Dist

State = Any


def detach(state: State) -> State:
    if isinstance(state, torch.Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach(s) for s in state)
    if isinstance(state, dict):
        return {k: detach(v) for k, v in state.items()}
    return state


def to_device(state: State, device: torch.device | str) -> State:
    if isinstance(state, torch.Tensor):
        return state.to(device)
    if isinstance(state, (tuple, list)):
        return type(state)(to_device(s, device) for s in state)
    if isinstance(state, dict):
        return {k: to_device(v, device) for k, v in state.items()}
    return state


def gather(state: State, dist: Dist) -> list[State]:
    """Every rank's carried state (on the CPU), in rank order: what a checkpoint keeps."""
    return dist.all_gather(to_device(state, "cpu"))


def mine(saved: list[State] | None, dist: Dist) -> dict:
    """This rank's states from a checkpoint's `gather`; empty (start afresh) when the
    checkpoint has none or came from another number of processes."""
    if not saved or len(saved) != dist.world or not isinstance(saved[dist.rank], dict):
        return {}
    return to_device(saved[dist.rank], dist.device)
