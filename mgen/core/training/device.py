"""Device and precision choice: `auto` picks cuda, then mps, then cpu."""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import torch

from mgen.core.contracts.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def resolve_device(name: str) -> torch.device:
    base = name.split(":")[0]
    if base not in DEVICES:
        raise ConfigError(f"unknown device {name!r}; choose from {', '.join(DEVICES)}")
    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if base == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if base == "cuda" and not cuda:
        raise ConfigError(
            "--device cuda was asked for but no CUDA GPU is available; use --device cpu"
        )
    if base == "mps" and not mps:
        raise ConfigError("--device mps was asked for but MPS is not available; use --device cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:  # e.g. "cuda:x"
        raise ConfigError(f"unknown device {name!r}; use e.g. cpu, cuda or cuda:0") from None
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ConfigError(
            f"--device {name}: this machine has {torch.cuda.device_count()} CUDA GPU(s)"
        )
    return dev


def resolve_precision(name: str, device: torch.device) -> str:
    """`auto`: bf16 (or fp16) mixed precision on CUDA and on CPUs with native bf16, else fp32."""
    if name not in PRECISIONS:
        raise ConfigError(f"unknown precision {name!r}; choose from {', '.join(PRECISIONS)}")
    if name != "auto":
        return name
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if device.type == "cpu" and cpu_has_native_bf16():
        return "bf16"
    return "fp32"


@functools.cache
def cpu_has_native_bf16() -> bool:
    """Whether the processor multiplies bf16 in hardware (AVX512-BF16 or AMX). There bf16
    autocast trains lstm2 about twice as fast as fp32 to the same validation loss (see
    docs/performance.md); elsewhere oneDNN emulates bf16, slower than fp32."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False  # not Linux: keep fp32
    flags = next((ln.split(":", 1)[1].split() for ln in text.splitlines()
                  if ln.startswith("flags")), [])  # fmt: skip
    return "avx512_bf16" in flags or "amx_bf16" in flags


def autocast(device: torch.device, precision: str):
    """The autocast context for a precision ('fp32' means none)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)
