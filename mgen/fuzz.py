"""Fuzz every tokenizer's `read` with property-based inputs (hypothesis).

    python -m mgen.fuzz --examples 10000                 # every registered tokenizer
    python -m mgen.fuzz -t kern -t midi-notes --examples 20000 --real ../shared/data

The property: `read(path)` returns pieces (lists of string tokens) or raises `MgenError` with a
one-line message. Any other exception, or a malformed result, is a bug; the run prints the
smallest input hypothesis finds for it and saves that input under --save for a regression test.

Inputs are generic (random bytes and text, huge lines, empty files) plus format-specific ones
chosen by the tokenizer's file patterns: generated ABC, **kern with spine splits, joins,
exchanges and terminators, MIDI built byte by byte (zero-length, overlapping and extreme notes,
tempo and time-signature changes, no notes, lying chunk lengths), and real files (music21's
corpus, folders given with --real) truncated, spliced, line-shuffled and bit-flipped.
The tests (tests/test_fuzz.py) run the same strategies with a few hundred examples each.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mgen.core import registry
from mgen.core.errors import MgenError
from mgen.core.tokenizer import Tokenizer

FORMATS = {".abc": "abc", ".krn": "kern", ".mid": "midi", ".midi": "midi"}
MAX_MESSAGE = 1000  # characters; longer "one-line" errors are not clear messages


class FuzzFailure(AssertionError):
    """`read` broke its contract on one input (kept on the exception for saving)."""

    def __init__(self, message: str, data: bytes):
        super().__init__(message)
        self.data = data


# -- the property --------------------------------------------------------------------------


def format_of(tok: Tokenizer) -> str:
    """'abc', 'kern', 'midi' or 'text' (unknown formats get the generic inputs only)."""
    for pattern in tok.file_patterns:
        fmt = FORMATS.get(Path(pattern).suffix.lower())
        if fmt:
            return fmt
    return "text"


def input_suffix(tok: Tokenizer) -> str:
    return Path(tok.file_patterns[0]).suffix if tok.file_patterns else tok.suffix


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


# -- real files to mutate ------------------------------------------------------------------


def real_files(fmt: str, extra: Sequence[Path] = (), per_source: int = 4) -> list[Path]:
    """A few small real files of a format: music21's corpus, then each folder in `extra`."""
    from mgen.plugins.tokenizers._music21 import corpus_root

    root = corpus_root()
    found: list[Path] = []
    if fmt == "abc":
        found += [root / "essenFolksong" / n for n in ("testd.abc", "teste.abc", "test1.abc")]
    elif fmt == "kern":
        found += _smallest((root / "bach").glob("*.krn"), per_source)
        found += _smallest((root / "palestrina").glob("*.krn"), per_source)
    patterns = [p for p, f in FORMATS.items() if f == fmt]
    for folder in extra:
        files = (f for pat in patterns for f in Path(folder).rglob(f"*{pat}"))
        found += _smallest(files, per_source)
    return [f for f in found if f.is_file()]


def _smallest(files, n: int) -> list[Path]:
    return sorted(files, key=lambda f: (f.stat().st_size, f))[:n]


@functools.cache
def _midi_from_abc() -> tuple[bytes, ...]:
    """Real tunes written as MIDI by music21: real MIDI without any MIDI dataset at hand."""
    from mgen.plugins.tokenizers._music21 import corpus_root, write_midi
    from mgen.plugins.tokenizers.abc_char import split_tunes

    text = (corpus_root() / "essenFolksong" / "testd.abc").read_text(encoding="latin-1")
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, tune in enumerate(split_tunes(text)[:3]):
            path = write_midi(f"X:1\n{tune}\n", "abc", Path(tmp) / f"{i}.mid")
            out.append(path.read_bytes())
    return tuple(out)


def seed_inputs(fmt: str, extra: Sequence[Path] = ()) -> list[bytes]:
    seeds = [f.read_bytes() for f in real_files(fmt, extra)]
    if fmt == "midi":
        seeds += _midi_from_abc()
    return seeds or [b"\n"]


# -- strategies ----------------------------------------------------------------------------


def strategy(fmt: str, seeds: Sequence[bytes]):
    """All inputs for one format: format-specific, mutated real files, and generic ones."""
    from hypothesis import strategies as st

    specific = {"abc": [abc_text()], "kern": [kern_text()], "midi": [midi_bytes()]}.get(fmt, [])
    mutations = [mutated(seeds), huge_line(seeds)]
    if fmt != "midi":
        mutations.append(lines_mutated(seeds))
    generic = [st.binary(max_size=2048), st.text(max_size=500).map(_utf8), st.just(b"")]
    return st.one_of(*specific, *mutations, *generic)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogatepass")


def _composite(fn: Callable) -> Callable:
    """hypothesis.strategies.composite, imported only when a strategy is built."""

    @functools.wraps(fn)
    def build(*args: Any):
        from hypothesis import strategies as st

        return st.composite(fn)(*args)

    return build


@_composite
def mutated(draw, seeds: Sequence[bytes]) -> bytes:
    """A real file after 1-4 byte-level edits: truncate, splice, overwrite, insert, cut, copy."""
    from hypothesis import strategies as st

    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "splice", "set", "insert", "cut", "copy"]))
        i = draw(st.integers(0, len(data)))
        j = draw(st.integers(i, min(len(data), i + 512)))
        if op == "truncate":
            data = data[:i]
        elif op == "splice":
            other = draw(st.sampled_from(seeds))
            data = data[:i] + other[draw(st.integers(0, len(other))) :]
        elif op == "set" and data:
            data[min(i, len(data) - 1)] = draw(st.integers(0, 255))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=64))
        elif op == "cut":
            del data[i:j]
        elif op == "copy":
            data[i:i] = data[i:j]
    return bytes(data)


@_composite
def lines_mutated(draw, seeds: Sequence[bytes]) -> bytes:
    """A real text file with lines dropped, repeated, swapped, joined or split."""
    from hypothesis import strategies as st

    lines = draw(st.sampled_from(seeds)).split(b"\n")
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["drop", "repeat", "swap", "join", "split", "junk"]))
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
    newline = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    return newline.join(lines)


@_composite
def huge_line(draw, seeds: Sequence[bytes]) -> bytes:
    """A real file with one very long line (or one giant token) inserted somewhere."""
    from hypothesis import strategies as st

    data = draw(st.sampled_from(seeds))
    unit = draw(st.sampled_from([b"A", b"c", b"4c ", b"|", b"\t.", b"=", b"%", b"\x00", b"\xff"]))
    n = draw(st.integers(10_000, 300_000)) // len(unit)
    i = draw(st.integers(0, len(data)))
    return data[:i] + b"\n" + unit * n + b"\n" + data[i:]


# -- ABC -----------------------------------------------------------------------------------

_ABC_VALUES = ["1", "G", "Gm", "Dmix", "C#", "Hp", "none", "3/4", "C|", "6/8", "1/8", "1/0",
               "0/0", "1/4=120", "=", "", "%", "\\%", "K:", "X:", "12345678901234567890"]  # fmt: skip
_ABC_BODY = "ABCDEFGabcdefgzxZ^_=,'/|:[]{}()<>-~.0123456789\"!+% \\yHLMOPSTuv&$#*;?@`\t"


@_composite
def abc_text(draw) -> bytes:
    """Text shaped like ABC: header fields, tune bodies, comments, stray and broken lines."""
    from hypothesis import strategies as st

    lines = []
    for _ in range(draw(st.integers(0, 30))):
        kind = draw(st.sampled_from(["field", "field", "body", "body", "comment", "blank", "junk"]))
        if kind == "field":
            letter = draw(st.sampled_from("XTMLKQRPVWwCOANSZHBDFGIm"))
            value = draw(st.one_of(st.sampled_from(_ABC_VALUES), st.text(max_size=30)))
            lines.append(f"{letter}:{value}")
        elif kind == "body":
            lines.append(draw(st.text(alphabet=_ABC_BODY, max_size=200)))
        elif kind == "comment":
            lines.append("%" + draw(st.text(max_size=40)))
        elif kind == "blank":
            lines.append(draw(st.sampled_from(["", " ", "\t"])))
        else:
            lines.append(draw(st.text(max_size=80)))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    encoding = draw(st.sampled_from(["utf-8", "latin-1"]))
    return newline.join(lines).encode(encoding, errors="replace")


# -- **kern --------------------------------------------------------------------------------

_KERN_DURATIONS = ["1", "2", "4", "8", "16", "32", "64", "128", "0", "00", "000", "3", "6", "12",
                   "24", "5", "7", "4.", "8..", "2...", "1%3", "3%2", "", "999999999"]  # fmt: skip
_KERN_PITCHES = ["c", "cc", "ccc", "C", "CC", "CCCCC", "d#", "e-", "f##", "g--", "a", "b", "r",
                 "rr", "ccccccccccc", "BBBBBBBBB", "q", "x"]  # fmt: skip
_KERN_MARKS = ["", "", "[", "]", "_", ";", "q", "qq", "L", "J", "'", "~", "yy", "n", "(", ")",
               "&(", "{", "}", "P", "Q"]  # fmt: skip
_KERN_INTERPS = ["*", "*M3/4", "*M4/4", "*M0/0", "*M1/0", "*M6/8", "*met(c)", "*k[]",
                 "*k[f#c#]", "*k[b-e-a-d-g-c-f-]", "*k[x]", "*G:", "*e-:", "*X:", "*clefG2",
                 "*clefF4", "*clefX", "*MM120", "*MM0", "*MM-5", "*MM", "*I\"Piano",
                 "*Ivox", "*>A", "*>B", "*>[A,A,B]", "*tb4", "*tb0", "*ITrd5c7", "*+",
                 "*staff1", "*grace", "*8va", "*rscale:2", "*rscale:0"]  # fmt: skip
_KERN_BARS = ["=", "=1", "=2", "==", "=:|!", "!|:", "=-", "=1-", "=||", "=1a", "=0"]


def _kern_token(draw) -> str:
    from hypothesis import strategies as st

    kind = draw(st.sampled_from(["note", "note", "chord", "null", "junk"]))
    if kind == "null":
        return "."
    if kind == "junk":
        return draw(st.text(alphabet=st.characters(exclude_characters="\t\n\r"), max_size=12))

    def note() -> str:
        return (
            draw(st.sampled_from(_KERN_MARKS))
            + draw(st.sampled_from(_KERN_DURATIONS))
            + draw(st.sampled_from(_KERN_PITCHES))
            + draw(st.sampled_from(_KERN_MARKS))
        )

    return " ".join(note() for _ in range(draw(st.integers(2, 4)) if kind == "chord" else 1))


@_composite
def kern_text(draw) -> bytes:
    """Humdrum shaped like **kern: spines split (*^), joined (*v, also odd joins), exchanged
    (*x), ended (*-) and added (*+); records with too few or too many fields."""
    from hypothesis import strategies as st

    width = draw(st.integers(1, 4))
    exclusive = st.sampled_from(["**kern", "**kern", "**dynam", "**text", "**kern", "**foo"])
    lines = ["\t".join(draw(exclusive) for _ in range(width))]
    if draw(st.booleans()):
        lines.insert(0, "!!!COM: " + draw(st.text(max_size=20)))
    for _ in range(draw(st.integers(0, 60))):
        kind = draw(st.sampled_from(["data"] * 6 + ["interp", "split", "join", "exchange",
                                     "end", "bar", "comment", "miscount"]))  # fmt: skip
        fields = ["*"] * width
        at = draw(st.integers(0, max(0, width - 1)))
        if kind == "data":
            fields = [_kern_token(draw) for _ in range(width)]
        elif kind == "interp":
            fields = [draw(st.sampled_from(_KERN_INTERPS)) for _ in range(width)]
        elif kind == "split":
            fields[at], width = "*^", width + 1
        elif kind == "join":  # usually adjacent pairs; sometimes a lone or distant *v
            for k in draw(st.sets(st.integers(0, max(0, width - 1)), min_size=1, max_size=3)):
                fields[k] = "*v"
            width -= max(0, fields.count("*v") - 1)
        elif kind == "exchange":
            fields[at] = fields[draw(st.integers(0, max(0, width - 1)))] = "*x"
        elif kind == "end":
            fields[at] = "*-"
            width = max(0, width - 1)
        elif kind == "bar":
            fields = [draw(st.sampled_from(_KERN_BARS))] * len(fields)
        elif kind == "comment":
            fields = ["!" + draw(st.text(max_size=10)).replace("\t", " ") for _ in fields]
        else:  # miscount: a record with the wrong number of fields
            fields = [_kern_token(draw) for _ in range(draw(st.integers(0, width + 2)))]
        lines.append("\t".join(fields))
        if width == 0:
            break
    if width and draw(st.booleans()):
        lines.append("\t".join(["*-"] * width))
    return "\n".join(lines).encode("utf-8", errors="surrogatepass") + b"\n"


# -- MIDI ----------------------------------------------------------------------------------


def _vlq(n: int) -> bytes:
    """MIDI variable-length quantity (7 bits a byte, high bit = more)."""
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def _meta(kind: int, payload: bytes) -> bytes:
    return bytes([0xFF, kind]) + _vlq(len(payload)) + payload


def _midi_event(draw) -> bytes:
    """One track event (delta time included), valid or deliberately broken."""
    from hypothesis import strategies as st

    ch = draw(st.integers(0, 15))
    pitch = draw(st.one_of(st.integers(0, 127), st.sampled_from([0, 127, 20, 109])))
    vel = draw(st.sampled_from([0, 1, 64, 127]))
    delta = _vlq(draw(st.one_of(st.integers(0, 960), st.sampled_from([0, 0x0FFFFFFF]))))
    kind = draw(st.sampled_from(["on", "off", "zero-length", "overlap", "tempo", "timesig",
                                 "keysig", "program", "bend", "text", "sysex", "running",
                                 "bad-data", "end", "raw"]))  # fmt: skip
    on, off = bytes([0x90 | ch, pitch, vel or 64]), bytes([0x80 | ch, pitch, 0])
    if kind == "on":
        return delta + bytes([0x90 | ch, pitch, vel])
    if kind == "off":
        return delta + off
    if kind == "zero-length":
        return delta + on + b"\x00" + off
    if kind == "overlap":  # the same pitch struck twice before one release
        return delta + on + b"\x10" + on + b"\x10" + off
    if kind == "tempo":  # microseconds per quarter, 0 and 0xFFFFFF included
        return delta + _meta(0x51, draw(st.integers(0, 0xFFFFFF)).to_bytes(3, "big"))
    if kind == "timesig":  # numerator, log2 denominator (0..255), clocks, 32nds
        return delta + _meta(
            0x58, bytes(draw(st.lists(st.integers(0, 255), min_size=4, max_size=4)))
        )
    if kind == "keysig":
        return delta + _meta(0x59, bytes([draw(st.integers(0, 255)), draw(st.integers(0, 255))]))
    if kind == "program":
        return delta + bytes([0xC0 | ch, draw(st.integers(0, 127))])
    if kind == "bend":
        return delta + bytes([0xE0 | ch, draw(st.integers(0, 127)), draw(st.integers(0, 127))])
    if kind == "text":
        return delta + _meta(draw(st.integers(1, 9)), draw(st.binary(max_size=40)))
    if kind == "sysex":
        return delta + b"\xf0" + _vlq(3) + b"\x7e\x7f\xf7"
    if kind == "running":  # running status: data bytes with no status byte of their own
        return delta + on + b"\x00" + bytes([pitch, 0])
    if kind == "bad-data":  # a data byte >= 128 where 0..127 must be
        return delta + bytes([0x90 | ch, 0x80 | pitch, vel])
    if kind == "end":
        return delta + _meta(0x2F, b"")
    return draw(st.binary(min_size=1, max_size=12))


@_composite
def midi_bytes(draw) -> bytes:
    """A Standard MIDI File built byte by byte, with honest or lying header and chunk sizes."""
    from hypothesis import strategies as st

    tracks = []
    for _ in range(draw(st.integers(0, 4))):
        body = b"".join(_midi_event(draw) for _ in range(draw(st.integers(0, 40))))
        if draw(st.booleans()):
            body += b"\x00" + _meta(0x2F, b"")
        size = len(body) if draw(st.integers(0, 5)) else draw(st.integers(0, 0xFFFFFFFF))
        tracks.append(b"MTrk" + size.to_bytes(4, "big") + body)
    fmt = draw(st.sampled_from([0, 1, 1, 2, 3]))
    declared = len(tracks) if draw(st.integers(0, 4)) else draw(st.integers(0, 0xFFFF))
    # Ticks per quarter; 0 and values with the top bit set (SMPTE timing) included.
    division = draw(st.one_of(st.sampled_from([96, 384, 480, 1, 0, 0x7FFF, 0xE728]),
                              st.integers(0, 0xFFFF)))  # fmt: skip
    header = b"MThd" + (6).to_bytes(4, "big")
    header += b"".join(x.to_bytes(2, "big") for x in (fmt, declared, division))
    trailer = draw(st.one_of(st.just(b""), st.binary(max_size=16)))
    return header + b"".join(tracks) + trailer


# -- named cases: every kind of input the issue lists, always tried ------------------------


def named_cases(fmt: str) -> dict[str, bytes]:
    """Hand-built inputs for the cases users actually meet, by format."""
    on = lambda p, d=0: _vlq(d) + bytes([0x90, p, 80])  # noqa: E731
    off = lambda p, d=0: _vlq(d) + bytes([0x80, p, 0])  # noqa: E731

    def midi(*events: bytes, division: int = 480) -> bytes:
        body = b"".join(events) + b"\x00" + _meta(0x2F, b"")
        head = b"MThd" + (6).to_bytes(4, "big") + b"\x00\x00\x00\x01" + division.to_bytes(2, "big")
        return head + b"MTrk" + len(body).to_bytes(4, "big") + body

    cases = {
        "empty": b"",
        "one newline": b"\n",
        "random bytes": bytes(range(256)) * 8,
        "nul bytes": b"\x00" * 1000,
        "huge line": b"A" * 2_000_000,
    }
    if fmt == "abc":
        cases |= {
            "header only": b"X:1\nT:t\nM:4/4\nK:G\n",
            "body without K:": b"X:1\nT:t\nabc|def|\n",
            "stray lines before X:": b"abc|\n%%junk\nK:G\nX:1\nK:G\nabc|\n",
            "huge body line": b"X:1\nK:G\n" + b"abc|" * 200_000 + b"\n",
            "latin-1 title": "X:1\nT:Gr\xfc\xdfe\nK:G\nabc|\n".encode("latin-1"),
            "comment escapes": b"X:1\nK:G\nabc\\% % comment\n% whole-line\nabc|\n",
        }
    elif fmt == "kern":
        cases |= {
            "no notes": b"**kern\n*M4/4\n=1\n*-\n",
            "split and join": b"**kern\n4c\n*^\n4d\t4e\n*v\t*v\n4f\n*-\n",
            "split without join": b"**kern\n*^\n4d\t4e\n*-\t*-\n",
            "lone join": b"**kern\t**kern\n*v\t*\n4c\t4d\n*-\t*-\n",
            "exchange": b"**kern\t**kern\n4c\t4d\n*x\t*x\n4e\t4f\n*-\t*-\n",
            "too many fields": b"**kern\n4c\t4d\t4e\n*-\n",
            "too few fields": b"**kern\t**kern\n4c\n*-\t*-\n",
            "no terminator": b"**kern\n4c\n4d\n",
            "zero duration": b"**kern\n0c\n00d\n4e\n*-\n",
            "tuplet and odd durations": b"**kern\n3c\n3d\n3e\n7f\n1%3g\n*-\n",
            "extreme pitches": b"**kern\n4CCCCCCCC\n4cccccccccccc\n*-\n",
            "key designation only": b"**kern\n*e-:\n4e-\n4f\n*-\n",
            "no kern spine": b"**text\nla\nle\n*-\n",
            "huge chord": b"**kern\n" + b" ".join([b"4c"] * 5000) + b"\n*-\n",
        }
    elif fmt == "midi":
        cases |= {
            "no tracks": midi()[:14],
            "no notes": midi(),
            "only meta events": midi(_meta(0x51, b"\x07\xa1\x20"), _meta(0x03, b"name")),
            "zero-length notes": midi(on(60), off(60), on(64), off(64)),
            "overlapping notes": midi(on(60), on(60, 10), off(60, 10), off(60, 10)),
            "note never released": midi(on(60), on(64, 100)),
            "release without a note": midi(off(60), off(61, 10)),
            "pitch 0 and 127": midi(on(0), on(127), off(0, 480), off(127)),
            "velocity-0 note-ons": midi(on(60), _vlq(480) + bytes([0x90, 60, 0])),
            "tempo and time-signature changes": midi(
                _meta(0x51, b"\x07\xa1\x20"), _meta(0x58, b"\x03\x02\x18\x08"), on(60),
                off(60, 480), _vlq(0) + _meta(0x51, b"\x00\x00\x01"),
                _meta(0x58, b"\x07\x03\x18\x08"), on(62), off(62, 240),
                _vlq(0) + _meta(0x51, b"\xff\xff\xff"), on(64), off(64, 960),
            ),  # fmt: skip
            "tempo 0": midi(_meta(0x51, b"\x00\x00\x00"), on(60), off(60, 480)),
            "time signature 0/0": midi(_meta(0x58, b"\x00\x00\x00\x00"), on(60), off(60, 480)),
            "huge time signature denominator": midi(_meta(0x58, b"\x04\xff\x18\x08"), on(60), off(60, 1)),
            "division 0": midi(on(60), off(60, 480), division=0),
            "SMPTE division": midi(on(60), off(60, 480), division=0xE728),
            "huge delta time": midi(on(60), off(60, 0x0FFFFFFF)),
            "drums only": midi(_vlq(0) + bytes([0x99, 36, 90]), _vlq(480) + bytes([0x89, 36, 0])),
            "data byte above 127": midi(_vlq(0) + bytes([0x90, 200, 80]), off(60, 480)),
            "chunk length lies": midi(on(60), off(60, 480))[:22] + b"\xff\xff\xff\xff"
            + midi(on(60), off(60, 480))[26:],
            "truncated": midi(on(60), off(60, 480))[:-6],
        }  # fmt: skip
    return cases


# -- the long run --------------------------------------------------------------------------


def fuzz(name: str, examples: int, *, seed: int | None = None, real: Sequence[Path] = (),
         derandomize: bool = False) -> list[tuple[str, FuzzFailure]]:  # fmt: skip
    """The named cases, then `examples` generated inputs, through one tokenizer's `read`.
    Returns the failures: (case name or 'generated', failure), the generated one minimal."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed

    tok = registry.load("tokenizer", name)()
    fmt = format_of(tok)
    failures = []
    with tempfile.TemporaryDirectory(prefix="mgen-fuzz-") as tmp:
        for case, data in named_cases(fmt).items():
            try:
                check(tok, data, Path(tmp))
            except FuzzFailure as e:
                failures.append((case, e))

        @settings(max_examples=examples, deadline=None, database=None, derandomize=derandomize,
                  suppress_health_check=list(HealthCheck), report_multiple_bugs=False)  # fmt: skip
        @given(strategy(fmt, seed_inputs(fmt, real)))
        def run(data: bytes) -> None:
            check(tok, data, Path(tmp))

        if seed is not None and not derandomize:
            run = hseed(seed)(run)
        try:
            run()
        except FuzzFailure as e:
            failures.append(("generated", e))
    return failures


def _save(failure: FuzzFailure, name: str, suffix: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(failure.data).hexdigest()[:12]
    path = folder / f"{name}-{digest}{suffix}"
    path.write_bytes(failure.data)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mgen.fuzz", description=__doc__.split("\n")[0])
    parser.add_argument("--examples", "-n", type=int, default=10_000,
                        help="inputs per tokenizer (default 10000)")  # fmt: skip
    parser.add_argument("--tokenizer", "-t", action="append",
                        help="tokenizer to fuzz (repeatable; default: every registered one)")  # fmt: skip
    parser.add_argument("--real", action="append", type=Path, default=[],
                        help="folder of real files to mutate as well (repeatable)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    parser.add_argument("--save", type=Path, default=Path("fuzz-failures"),
                        help="where failing inputs are written (default ./fuzz-failures)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.examples < 1:
        parser.error("--examples must be >= 1")
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        print("python -m mgen.fuzz needs hypothesis: pip install -e '.[test]'", file=sys.stderr)
        return 2
    names = args.tokenizer or registry.names("tokenizer")
    failed = 0
    for name in names:
        print(f"{name}: named cases and {args.examples} generated inputs ...", flush=True)
        start = time.monotonic()
        failures = fuzz(name, args.examples, seed=args.seed, real=args.real)
        suffix = input_suffix(registry.load("tokenizer", name)())
        for case, failure in failures:
            saved = _save(failure, name, suffix, args.save)
            print(f"{name}: FAILED ({case}): {failure}\n  input saved to {saved}")
        verdict = "ok" if not failures else f"{len(failures)} failure(s)"
        print(f"{name}: {verdict} ({time.monotonic() - start:.0f} s)", flush=True)
        failed += len(failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
