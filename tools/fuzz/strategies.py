"""Hypothesis strategies: generic ones, and each built-in tokenizer's own, by its name.

hypothesis is a test-only dependency, so nothing here imports it: each function receives the
`hypothesis.strategies` module as `st`.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from mgen.core.contracts import registry
from mgen.core.contracts.errors import PluginError
from mgen.core.contracts.tokenizer import Tokenizer

#: The inputs of a tokenizer's own format (generated files and named edge cases), by its name.
OWN = {
    "abc-char": "tools.fuzz.inputs_abc",
    "kern": "tools.fuzz.inputs_kern",
    "midi-notes": "tools.fuzz.inputs_midi",
    "midi-chords": "tools.fuzz.inputs_midi",
    "midi-tracks": "tools.fuzz.inputs_midi",
    "miditok": "tools.fuzz.inputs_midi",
}

_BYTE_OPS = ["truncate", "splice", "set", "flip", "insert", "cut", "copy"]
_LINE_OPS = ["drop", "repeat", "swap", "join", "split", "junk"]
#: What a huge line is made of: letters, tokens, separators, comment marks, NUL, 0xFF.
_HUGE_UNITS = [b"A", b"c", b"4c ", b"|", b"\t.", b"=", b"%", b"\x00", b"\xff"]


def named_cases() -> dict[str, bytes]:
    """Inputs every reader meets sooner or later, whatever its format: always tried first."""
    return {
        "empty": b"",
        "one newline": b"\n",
        "random bytes": bytes(range(256)) * 8,
        "nul bytes": b"\x00" * 1000,
        "huge line": b"A" * 2_000_000,
    }


def name_of(tok: Tokenizer) -> str | None:
    """The name `tok`'s class is registered under, or None."""
    for name in registry.names("tokenizer"):
        try:
            if registry.load("tokenizer", name) is type(tok):
                return name
        except PluginError:
            continue
    return None


def own_strategy(st: Any, tok: str | Tokenizer) -> Any:
    """The inputs of the tokenizer's own format (`OWN`, by its registered name); a 0.1 plugin's
    `fuzz_strategy(st)` is still asked (deprecated); None: it has none."""
    name = tok if isinstance(tok, str) else name_of(tok)
    if name in OWN:
        return importlib.import_module(OWN[name]).strategy(st)
    legacy = getattr(tok, "fuzz_strategy", None)
    return legacy(st) if callable(legacy) else None


def strategy(st: Any, tok: Tokenizer, seeds: Sequence[bytes]) -> Any:
    """All inputs for one tokenizer: its own format's (`own_strategy`, if it has one),
    mutations of the real files `seeds` (of its own inputs, or random bytes, when there are
    none), and generic inputs."""
    own = own_strategy(st, tok)
    specific = [own] if own is not None else []
    # What the mutations start from: real files; without any, the format's own inputs.
    if seeds:
        base = st.sampled_from(list(seeds))
    else:
        base = own if own is not None else st.binary(min_size=1, max_size=512)
    mutations = [mutated(st, base), lines_mutated(st, base), huge_line(st, base)]
    generic = [st.binary(max_size=2048), st.text(max_size=500).map(utf8), st.just(b"")]
    return st.one_of(*specific, *mutations, *generic)


def utf8(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogatepass")


def _edit(draw: Any, st: Any, data: bytearray, base: Any) -> bytearray:
    """One byte-level edit: truncate, splice another input in, set a byte, flip a bit, insert
    random bytes, cut a range or copy one."""
    op = draw(st.sampled_from(_BYTE_OPS))
    i = draw(st.integers(0, len(data)))
    j = draw(st.integers(i, min(len(data), i + 512)))
    if op == "truncate":
        return data[:i]
    if op == "splice":
        other = draw(base)
        return data[:i] + other[draw(st.integers(0, len(other))) :]
    if op == "set" and data:
        data[min(i, len(data) - 1)] = draw(st.integers(0, 255))
    elif op == "flip" and data:
        data[min(i, len(data) - 1)] ^= 1 << draw(st.integers(0, 7))
    elif op == "insert":
        data[i:i] = draw(st.binary(min_size=1, max_size=64))
    elif op == "cut":
        del data[i:j]
    elif op == "copy":
        data[i:i] = data[i:j]
    return data


def mutated(st: Any, base: Any) -> Any:
    """An input from `base` (real files) after 1-4 byte-level edits."""

    @st.composite
    def build(draw: Any) -> bytes:
        data = bytearray(draw(base))
        for _ in range(draw(st.integers(1, 4))):
            data = _edit(draw, st, data, base)
        return bytes(data)

    return build()


def _line_edit(draw: Any, st: Any, lines: list[bytes]) -> None:
    """One line-level edit in place: drop, repeat, swap, join, split or insert junk."""
    i = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(0, len(lines) - 1))
    op = draw(st.sampled_from(_LINE_OPS))
    if op == "drop" and len(lines) > 1:
        del lines[i]
    elif op == "repeat":
        lines[i:i] = [lines[i]] * draw(st.integers(1, 50))
    elif op == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "join" and i + 1 < len(lines):
        lines[i : i + 2] = [lines[i] + draw(st.sampled_from([b"", b"\t", b" "])) + lines[i + 1]]
    elif op == "split":
        k = draw(st.integers(0, len(lines[i])))
        lines[i : i + 1] = [lines[i][:k], lines[i][k:]]
    elif op == "junk":
        lines.insert(i, draw(st.binary(max_size=80)).replace(b"\n", b""))


def lines_mutated(st: Any, base: Any) -> Any:
    """An input from `base` with lines dropped, repeated, swapped, joined or split, and its
    line ends rewritten (\\n, \\r\\n or \\r)."""

    @st.composite
    def build(draw: Any) -> bytes:
        lines = draw(base).split(b"\n")
        for _ in range(draw(st.integers(1, 6))):
            _line_edit(draw, st, lines)
        return draw(st.sampled_from([b"\n", b"\r\n", b"\r"])).join(lines)

    return build()


def huge_line(st: Any, base: Any) -> Any:
    """An input from `base` with one very long line (or one giant token) inserted somewhere."""

    @st.composite
    def build(draw: Any) -> bytes:
        data = draw(base)
        unit = draw(st.sampled_from(_HUGE_UNITS))
        n = draw(st.integers(10_000, 300_000)) // len(unit)
        i = draw(st.integers(0, len(data)))
        return data[:i] + b"\n" + unit * n + b"\n" + data[i:]

    return build()
