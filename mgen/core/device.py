"""Device and precision choice: `auto` picks cuda, then mps, then cpu."""

from __future__ import annotations

import contextlib

import torch

from mgen.core.errors import ConfigError

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
    return torch.device(name)


def resolve_precision(name: str, device: torch.device) -> str:
    """`auto`: bf16 (or fp16) mixed precision on CUDA, fp32 elsewhere."""
    if name not in PRECISIONS:
        raise ConfigError(f"unknown precision {name!r}; choose from {', '.join(PRECISIONS)}")
    if name != "auto":
        return name
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "fp32"


def autocast(device: torch.device, precision: str):
    """The autocast context for a precision ('fp32' means none)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)
