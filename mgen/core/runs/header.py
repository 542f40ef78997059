"""A .safetensors file's header, read without torch and without loading a tensor: the one
place mgen parses it (a run's parameter count, and whether its weights file is whole)."""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path

from mgen.core.contracts.errors import CheckpointError

MAX_HEADER = 16 << 20  # a header larger than this is not read (no real model has one)


@dataclass(frozen=True)
class Header:
    """What the header says of the file: its tensors' numbers and where their bytes end."""

    length: int  # bytes of JSON after the 8-byte length
    size: int  # bytes in the file
    parameters: int  # numbers in all tensors
    data_end: int  # where the last tensor's bytes end, counted from the end of the header

    @property
    def expected_size(self) -> int:
        """The size the file has when every tensor it lists is there, and nothing more."""
        return 8 + self.length + self.data_end


def read_header(path: Path) -> Header:
    """The header of the .safetensors file `path`; a CheckpointError when it has none."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            if length > min(size - 8, MAX_HEADER):
                raise ValueError("header longer than the file")
            tensors = [t for k, t in json.loads(f.read(length)).items() if k != "__metadata__"]
        parameters = sum(math.prod(t["shape"]) for t in tensors)
        end = max((t["data_offsets"][1] for t in tensors), default=0)
        return Header(length, size, int(parameters), int(end))
    except (OSError, struct.error, ValueError, KeyError, TypeError, IndexError,
            AttributeError) as e:  # fmt: skip
        raise CheckpointError(f"cannot read weights {path}: not a safetensors file ({e})") from None


def check_whole(path: Path) -> Header:
    """`read_header`, and the tensors it lists fit the file exactly (not truncated)."""
    header = read_header(path)
    if header.expected_size != header.size:
        raise CheckpointError(
            f"cannot read weights {path}: truncated or padded ({header.size} bytes, "
            f"{header.expected_size} expected)"
        )
    return header
