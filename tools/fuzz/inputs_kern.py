"""Fuzz inputs in the **kern format for kern (tools/fuzz/strategies.py, by tokenizer name).

hypothesis is a test-only dependency: nothing here imports it. Each function receives the
`hypothesis.strategies` module as `st` and builds its strategies from it.
"""

from __future__ import annotations

from typing import Any

_DURATIONS = ["1", "2", "4", "8", "16", "32", "64", "128", "0", "00", "000", "3", "6", "12",
              "24", "5", "7", "4.", "8..", "2...", "1%3", "3%2", "", "999999999"]  # fmt: skip
_PITCHES = ["c", "cc", "ccc", "C", "CC", "CCCCC", "d#", "e-", "f##", "g--", "a", "b", "r",
            "rr", "ccccccccccc", "BBBBBBBBB", "q", "x"]  # fmt: skip
_MARKS = ["", "", "[", "]", "_", ";", "q", "qq", "L", "J", "'", "~", "yy", "n", "(", ")",
          "&(", "{", "}", "P", "Q"]  # fmt: skip
_INTERPS = ["*", "*M3/4", "*M4/4", "*M0/0", "*M1/0", "*M6/8", "*met(c)", "*k[]",
            "*k[f#c#]", "*k[b-e-a-d-g-c-f-]", "*k[x]", "*G:", "*e-:", "*X:", "*clefG2",
            "*clefF4", "*clefX", "*MM120", "*MM0", "*MM-5", "*MM", "*I\"Piano",
            "*Ivox", "*>A", "*>B", "*>[A,A,B]", "*tb4", "*tb0", "*ITrd5c7", "*+",
            "*staff1", "*grace", "*8va", "*rscale:2", "*rscale:0"]  # fmt: skip
_BARS = ["=", "=1", "=2", "==", "=:|!", "!|:", "=-", "=1-", "=||", "=1a", "=0"]
_EXCLUSIVE = ["**kern", "**kern", "**dynam", "**text", "**kern", "**foo"]
_RECORDS = ["data"] * 6 + ["interp", "split", "join", "exchange", "end", "bar", "comment",
                           "miscount"]  # fmt: skip


def strategy(st: Any) -> Any:
    """Generated Humdrum **kern, or one of the named cases."""
    return st.one_of(kern_text(st), st.sampled_from(list(named_cases().values())))


def kern_token(st: Any) -> Any:
    """One data token: a note, a chord, a null token or junk."""
    note = st.builds(
        "{}{}{}{}".format,
        *(st.sampled_from(values) for values in (_MARKS, _DURATIONS, _PITCHES, _MARKS)),
    )
    chord = st.lists(note, min_size=2, max_size=4).map(" ".join)
    junk = st.text(alphabet=st.characters(exclude_characters="\t\n\r"), max_size=12)
    return st.one_of(note, note, chord, st.just("."), junk)


def _record(draw: Any, st: Any, kind: str, width: int) -> tuple[list[str], int]:
    """The fields of one record of `kind` in `width` spines, and the width after it."""
    token = kern_token(st)
    fields = ["*"] * width
    at = draw(st.integers(0, max(0, width - 1)))
    if kind == "data":
        fields = [draw(token) for _ in range(width)]
    elif kind == "interp":
        fields = [draw(st.sampled_from(_INTERPS)) for _ in range(width)]
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
        fields = [draw(st.sampled_from(_BARS))] * len(fields)
    elif kind == "comment":
        fields = ["!" + draw(st.text(max_size=10)).replace("\t", " ") for _ in fields]
    else:  # miscount: a record with the wrong number of fields
        fields = [draw(token) for _ in range(draw(st.integers(0, width + 2)))]
    return fields, width


def kern_text(st: Any) -> Any:
    """Humdrum shaped like **kern: spines split (*^), joined (*v, also odd joins), exchanged
    (*x), ended (*-) and added (*+); records with too few or too many fields."""

    @st.composite
    def build(draw: Any) -> bytes:
        width = draw(st.integers(1, 4))
        lines = ["\t".join(draw(st.sampled_from(_EXCLUSIVE)) for _ in range(width))]
        if draw(st.booleans()):
            lines.insert(0, "!!!COM: " + draw(st.text(max_size=20)))
        for _ in range(draw(st.integers(0, 60))):
            fields, width = _record(draw, st, draw(st.sampled_from(_RECORDS)), width)
            lines.append("\t".join(fields))
            if width == 0:
                break
        if width and draw(st.booleans()):
            lines.append("\t".join(["*-"] * width))
        return "\n".join(lines).encode("utf-8", errors="surrogatepass") + b"\n"

    return build()


def named_cases() -> dict[str, bytes]:
    """Hand-built **kern that users actually meet, and spine layouts that break parsers."""
    return {
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
