"""The machine section (processor, bf16 support, torch, load) and the matrix-multiply peaks
the training figures are compared with."""

from __future__ import annotations

import contextlib
import datetime
import os
import platform
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from mgen.bench.common import fig, median_time

if TYPE_CHECKING:
    from mgen.bench import Bench

#: Side of the one bf16 product timed where the processor only emulates bf16: one 2048-square
#: product takes tens of seconds there (0-3 GFLOP/s), and the figure only shows the gap.
EMULATED_SQUARE = 256
QUICK_SIZE = 64  # --quick clips every dimension to this


def cpu_flags() -> set[str]:
    """The processor's feature flags (Linux); empty elsewhere."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def cpu_name() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def load1() -> str:
    with contextlib.suppress(OSError, AttributeError):
        return f"{os.getloadavg()[0]:.2f}"
    return "n/a"


def describe(b: Bench) -> None:
    """The machine rows: what the figures below were measured on."""
    flags = cpu_flags()
    bf16 = [f for f in ("avx512_bf16", "amx_bf16", "amx_tile") if f in flags]
    now = datetime.datetime.now(datetime.timezone.utc)
    b.add("machine", "date (UTC)", now.strftime("%Y-%m-%d %H:%M"))
    b.add("machine", "processor", cpu_name(), f"{os.cpu_count()} logical cores")
    if b.device.type == "cuda":
        b.add("machine", "GPU", torch.cuda.get_device_name(b.device))
    b.add("machine", "native bf16 instructions", ", ".join(bf16) or "none",
          "" if b.native_bf16 else "bf16 is emulated here (slower than fp32)")  # fmt: skip
    b.add("machine", "torch", torch.__version__, f"device {b.device}")
    b.add("machine", "OMP_WAIT_POLICY", os.environ.get("OMP_WAIT_POLICY", "(unset)"))
    b.add("machine", "mgen's fastest setting", b.fastest, "--precision auto on this device")
    b.add("machine", "load average (1 min) at the start", load1())
    if b.cfg.quick:
        b.add("machine", "mode", "--quick", "tiny sizes: a smoke test, not a measurement")


def shapes(b: Bench) -> list[tuple[str, int, int, int]]:
    """(name, m, k, n) of the products timed: a large square and the models' own shapes
    (batch 64 x 128 tokens); each name gives the sizes actually timed."""
    bs, t = b.cfg.batch_size, b.cfg.seq_len
    square = 2048 if b.device.type == "cpu" else 8192
    sizes = [
        ("square", square, square, square),
        ("lstm2 input projection", bs * t, 128, 1024),
        ("lstm2 recurrent step", bs, 256, 1024),
        ("seed-002 recurrent step", bs, 1024, 4096),
        ("output layer", bs * t, 256, 100),
    ]
    if b.cfg.quick:
        sizes = [(name, *(min(d, QUICK_SIZE) for d in mkn)) for name, *mkn in sizes]
    return [(shape_name(name, m, k, n), m, k, n) for name, m, k, n in sizes]


def shape_name(name: str, m: int, k: int, n: int) -> str:
    return f"square {m}" if name == "square" else f"{name} [{m}x{k}]x[{k}x{n}]"


def peak(b: Bench) -> None:
    """fp32 and bf16 matrix-multiply GFLOP/s; where the processor only emulates bf16, bf16 is
    timed once, at a small size, and marked so."""
    # torch.mm runs fp32 on MKL and bf16 on oneDNN; the fused RNNs run both on oneDNN, and
    # MKL takes a generic path on non-Intel processors: time fp32 on oneDNN too.
    kinds = [("fp32", torch.float32, "torch.mm")]
    if b.device.type == "cpu" and torch.backends.mkldnn.is_available():
        kinds.append(("fp32", torch.float32, "oneDNN"))
    if b.native_bf16:
        kinds.append(("bf16", torch.bfloat16, "torch.mm"))
    for label, dtype, how in kinds:
        for name, m, k, n in shapes(b):
            time_product(b, label, how, name, (m, k, n), dtype)
    emulated = "emulated: no native bf16 on this processor; timed at one small size"
    if not b.native_bf16:
        side = QUICK_SIZE if b.cfg.quick else EMULATED_SQUARE
        time_product(b, "bf16", "torch.mm", f"square {side}", (side, side, side),
                     torch.bfloat16, note=emulated)  # fmt: skip
    for label in ("fp32", "bf16"):
        b.add("peak", f"{label} measured peak (best above)", f"{fig(b.peaks[label])} GFLOP/s",
              emulated if label == "bf16" and not b.native_bf16 else "")  # fmt: skip


def time_product(b: Bench, label: str, how: str, name: str, mkn: tuple[int, int, int],
                 dtype: torch.dtype, note: str = "") -> None:  # fmt: skip
    """Time one product, add its row and keep the best rate per label in `b.peaks`."""
    m, k, n = mkn
    fn = matmul(b.device, m, k, n, dtype, how == "oneDNN")
    reps = b.size.repeats if m * k * n < 2**30 else max(1, b.size.repeats // 2)
    rate = 2 * m * k * n / median_time(fn, reps, b.sync) / 1e9
    b.peaks[label] = max(b.peaks.get(label, 0.0), rate)
    b.add("peak", f"{label} matmul ({how}) {name}", f"{fig(rate)} GFLOP/s", note)


def matmul(device: torch.device, m: int, k: int, n: int, dtype: torch.dtype,
           onednn: bool) -> Callable[[], object]:  # fmt: skip
    """A call computing [m,k] x [k,n]; `onednn`: through oneDNN's fp32 linear instead."""
    a = torch.randn(m, k, device=device).to(dtype)
    if not onednn:
        w = torch.randn(k, n, device=device).to(dtype)
        return lambda: a @ w
    import warnings

    with warnings.catch_warnings():  # its module still uses torch.jit, now deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        from torch.utils.mkldnn import MkldnnLinear

        linear = MkldnnLinear(nn.Linear(k, n, bias=False), torch.float32)
    x = a.to_mkldnn()  # oneDNN's own layout, as inside its fused RNN
    return lambda: linear(x)
