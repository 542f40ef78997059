"""The learning rate over a run: linear warm-up, then cosine decay to the end of its budget.

The budget is whatever bounds the run (epochs, steps or seconds), so a 5-minute run and a
2-hour run both end at their smallest learning rate. `constant` keeps the rate fixed."""

from __future__ import annotations

import math

SCHEDULES = ("cosine", "constant")


def lr_at(base: float, schedule: str, step: int, warmup: int, done: float, floor: float) -> float:
    """The rate for optimizer step `step` (0-based) when `done` (0..1) of the budget is spent:
    `base` times a linear ramp over the first `warmup` steps, times a cosine from 1 down to
    `floor` over the budget."""
    ramp = min(1.0, (step + 1) / warmup) if warmup > 0 else 1.0
    if schedule == "constant":
        return base * ramp
    done = min(max(done, 0.0), 1.0)
    return base * ramp * (floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * done)))
