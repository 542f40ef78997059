"""The property every tokenizer's `read` must keep, whatever the file holds."""

from __future__ import annotations

import traceback
from pathlib import Path

from mgen.core.contracts.errors import MgenError
from mgen.core.contracts.tokenizer import Tokenizer

MAX_MESSAGE = 1000  # characters; longer "one-line" errors are not clear messages


class FuzzFailure(AssertionError):
    """`read` broke its contract on one input (kept on the exception for saving)."""

    def __init__(self, message: str, data: bytes):
        super().__init__(message)
        self.data = data


def input_suffix(tok: Tokenizer) -> str:
    """The suffix inputs are written with: the first file pattern's, else the native one."""
    fmt = tok.format
    return Path(fmt.patterns[0]).suffix if fmt.patterns else fmt.suffix


def check(tok: Tokenizer, data: bytes, folder: Path) -> None:
    """Write `data` as a file of the tokenizer's format and read it; raise FuzzFailure on a
    contract breach."""
    path = Path(folder) / f"input{input_suffix(tok)}"
    path.write_bytes(data)
    try:
        pieces = tok.read(path)
    except MgenError as e:
        msg = str(e)
        if not msg.strip() or "\n" in msg or len(msg) > MAX_MESSAGE:
            raise FuzzFailure(f"unclear {type(e).__name__} message: {msg[:300]!r}", data) from e
        return
    except Exception as e:  # noqa: BLE001 - exactly what the property forbids
        where = traceback.extract_tb(e.__traceback__)[-1]
        raise FuzzFailure(
            f"read() let {type(e).__name__} escape: {str(e)[:300]} "
            f"(at {Path(where.filename).name}:{where.lineno})",
            data,
        ) from e
    if not isinstance(pieces, list) or not all(
        isinstance(p, list) and all(isinstance(t, str) for t in p) for p in pieces
    ):
        raise FuzzFailure(f"read() returned {type(pieces).__name__}, not list[list[str]]", data)
