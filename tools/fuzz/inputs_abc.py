"""Fuzz inputs in the ABC format for abc-char (tools/fuzz/strategies.py, by tokenizer name).

hypothesis is a test-only dependency: nothing here imports it. Each function receives the
`hypothesis.strategies` module as `st` and builds its strategies from it.
"""

from __future__ import annotations

from typing import Any

_VALUES = ["1", "G", "Gm", "Dmix", "C#", "Hp", "none", "3/4", "C|", "6/8", "1/8", "1/0",
           "0/0", "1/4=120", "=", "", "%", "\\%", "K:", "X:", "12345678901234567890"]  # fmt: skip
_FIELDS = "XTMLKQRPVWwCOANSZHBDFGIm"
_BODY = "ABCDEFGabcdefgzxZ^_=,'/|:[]{}()<>-~.0123456789\"!+% \\yHLMOPSTuv&$#*;?@`\t"
_KINDS = ["field", "field", "body", "body", "comment", "blank", "junk"]


def strategy(st: Any) -> Any:
    """Generated ABC-shaped text, or one of the named cases."""
    return st.one_of(abc_text(st), st.sampled_from(list(named_cases().values())))


def abc_text(st: Any) -> Any:
    """Text shaped like ABC: header fields, tune bodies, comments, stray and broken lines."""
    line = {
        "field": st.builds(
            "{}:{}".format,
            st.sampled_from(_FIELDS),
            st.one_of(st.sampled_from(_VALUES), st.text(max_size=30)),
        ),
        "body": st.text(alphabet=_BODY, max_size=200),
        "comment": st.text(max_size=40).map("%{}".format),
        "blank": st.sampled_from(["", " ", "\t"]),
        "junk": st.text(max_size=80),
    }

    @st.composite
    def build(draw: Any) -> bytes:
        lines = [draw(line[draw(st.sampled_from(_KINDS))]) for _ in range(draw(st.integers(0, 30)))]
        newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
        encoding = draw(st.sampled_from(["utf-8", "latin-1"]))
        return newline.join(lines).encode(encoding, errors="replace")

    return build()


def named_cases() -> dict[str, bytes]:
    """Hand-built ABC that users actually meet."""
    return {
        "header only": b"X:1\nT:t\nM:4/4\nK:G\n",
        "body without K:": b"X:1\nT:t\nabc|def|\n",
        "stray lines before X:": b"abc|\n%%junk\nK:G\nX:1\nK:G\nabc|\n",
        "huge body line": b"X:1\nK:G\n" + b"abc|" * 200_000 + b"\n",
        "latin-1 title": "X:1\nT:Gr\xfc\xdfe\nK:G\nabc|\n".encode("latin-1"),
        "comment escapes": b"X:1\nK:G\nabc\\% % comment\n% whole-line\nabc|\n",
    }
