"""ABC notation, one character per token (seeds 000, 001, 002).

A file is split into tunes at `X:` headers; `%` comments, lines outside tunes and non-musical
header fields (origin, notes, transcriber, ...) are dropped, as is the tune number. Every tune is
one piece; the engine wraps it in `<start>`/`<end>`, one token each.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from mgen.core.contracts.errors import DataError
from mgen.core.contracts.io import write_text
from mgen.core.contracts.recipe import Recipe
from mgen.core.contracts.tokenizer import Tokenizer, TokenizerConfig
from mgen.core.contracts.vocab import Vocab
from mgen.formats.abc.format import ABC
from mgen.formats.score import Score
from mgen.plugins.tokenizers import abc_grammar_values as values
from mgen.plugins.tokenizers.abc_grammar import AbcGrammar

#: Header fields kept: title, rhythm, meter, unit length, tempo, parts, voice, key.
KEEP_FIELDS = set("TRMLQPVK")
_FIELD = re.compile(r"^([A-Za-z]):")


@dataclasses.dataclass
class AbcCharConfig(TokenizerConfig):
    keep_titles: bool = True
    max_tune_chars: int = 4000  # longer "tunes" are usually several tunes run together


def split_tunes(text: str, keep_titles: bool = True) -> list[str]:
    """Tunes of one ABC file as cleaned text (header fields then body), without `X:` lines."""
    tunes, current, inside = [], [], False
    for raw in text.splitlines():
        line = _strip_comment(raw).rstrip()
        if raw.startswith("X:"):
            if current:
                tunes.append(current)
            current, inside = [], True
            continue
        if not inside:
            continue  # file header or stray text before the first tune
        if not line.strip():
            if raw.strip().startswith("%"):
                continue  # a whole-line comment does not end the tune
            if current:
                tunes.append(current)
            current, inside = [], False
            continue
        m = _FIELD.match(line)
        if m and not line.startswith("|"):
            field = m.group(1)
            if field not in KEEP_FIELDS or (field == "T" and not keep_titles):
                continue
        current.append(line)
    if current:
        tunes.append(current)
    return ["\n".join(t) for t in tunes if _is_tune(t)]


_NOT_NOTES = re.compile(r'"[^"]*"|![^!]*!|\+[^+]*\+')  # chord symbols, decorations
_NOTE = re.compile(r"[A-Ga-g]")


def count_abc_notes(text: str) -> int:
    """Notes in an ABC tune's body: pitch letters outside header lines, quoted chord symbols
    and decorations (rests are not notes)."""
    body = (ln for ln in text.splitlines() if not (_FIELD.match(ln) and not ln.startswith("|")))
    return sum(len(_NOTE.findall(_NOT_NOTES.sub("", ln))) for ln in body)


def default_unit(header: list[str]) -> str:
    """ABC's default unit note length (standard 2.1, 3.1.7): 1/16 when the meter is below
    3/4, else 1/8 (also for no meter, M:none and unreadable meters)."""
    meters = [h[2:].strip() for h in header if h.startswith("M:")]
    meter = {"C": "4/4", "C|": "2/2"}.get(meters[-1], meters[-1]) if meters else ""
    num, _, den = meter.partition("/")
    try:
        short = int(num) / int(den) < 0.75
    except (ValueError, ZeroDivisionError):
        short = False
    return "L:1/16" if short else "L:1/8"


_TEMPO = re.compile(r"(\d+)/(\d+)\s*=\s*(\d+)|^\s*(\d+)\s*$")


def abc_attributes(text: str) -> dict[str, str]:
    """Key, meter and tempo (quarter notes a minute) of a tune from its header fields."""
    lines = text.strip("\n").splitlines()
    fields = {ln[0]: ln[2:].strip() for ln in lines[: _header_length(lines)]}
    out = {}
    if fields.get("K"):
        out["key"] = values.key_words(fields["K"])
    if fields.get("M") and fields["M"] != "none":
        out["meter"] = fields["M"]
    m = _TEMPO.search(fields.get("Q", ""))
    if m:
        a, b, bpm, bare = m.groups()
        out["tempo"] = bare or str(round(int(bpm) * 4 * int(a) / max(int(b), 1)))
    return out


def _header_length(lines: list[str]) -> int:
    """How many of `lines` open the tune as header fields (`T:...`, `M:...`)."""
    n = 0
    while n < len(lines) and _FIELD.match(lines[n]):
        n += 1
    return n


def _strip_comment(line: str) -> str:
    # `%` starts a comment unless escaped as `\%`.
    m = re.search(r"(?<!\\)%", line)
    return line[: m.start()] if m else line


def _is_tune(lines: list[str]) -> bool:
    has_key = any(line.startswith("K:") for line in lines)
    has_body = any(not _FIELD.match(line) for line in lines)
    return has_key and has_body


class AbcCharTokenizer(Tokenizer):
    """ABC notation, one character per token (music21 folk-tune corpus by default)

    Each tune is one piece; the engine wraps it in <start>/<end>."""

    version = "1"
    Config = AbcCharConfig
    format = ABC
    recipe = Recipe(
        dataset="folk-abc",
        split_by="piece",  # a file is a collection of independent tunes
        time_budget=300.0,
        batching="piece-lanes",  # each tune from the empty state: measured (docs/training.md)
    )

    def read(self, path: Path) -> list[list[str]]:
        try:
            raw = Path(path).read_bytes()
        except OSError as e:  # missing, a folder, unreadable: the file's problem, not a bug
            raise DataError(f"cannot read {path}: {e.strerror or e}") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        if "\x00" in text:
            raise DataError(f"{path} is binary, not ABC text")
        tunes = split_tunes(text, self.config.keep_titles)
        return [list(t) for t in tunes if len(t) <= self.config.max_tune_chars]

    def count_notes(self, tokens: list[str]) -> int:
        """Note letters in the tune's body (not in headers, chord symbols, decorations)."""
        return count_abc_notes("".join(tokens))

    def parse_primer(self, text: str) -> list[str]:
        """Characters; a typed `\\n` (a shell does not expand it) is a line break."""
        return list(text.replace("\\n", "\n"))

    def cut_off(self, tokens: list[str]) -> list[str]:
        """A tune stopped by the length limit ends at its last bar line: the characters after it
        are a bar cut in the middle, which no meter fits. A tune still in its header, or with
        no bar line yet, is kept whole."""
        text = "".join(tokens)
        assert len(text) == len(tokens), "abc-char pieces hold one character a token"
        lines = text.splitlines(keepends=True)
        last = text.rfind("|", sum(map(len, lines[: _header_length(lines)])))
        return tokens if last < 0 else tokens[: last + 1]

    def text(self, tokens: list[str]) -> str:
        """A playable tune: `X:1`, the header fields (adding K:C if the model left it out,
        with K: last as ABC requires), then the body. A missing L: keeps ABC's own default
        (1/16 below 3/4 meters, else 1/8), written out so every reader agrees."""
        lines = "".join(tokens).strip("\n").splitlines()
        n = _header_length(lines)
        header, body = lines[:n], lines[n:]
        keys = [h for h in header if h.startswith("K:")] or ["K:C"]
        header = [h for h in header if not h.startswith("K:")]
        if not any(h.startswith("L:") for h in header):
            header.append(default_unit(header))
        return "\n".join(["X:1", *header, keys[-1], *body]) + "\n"

    def score(self, tokens: list[str]) -> Score:
        """The live-notes hook (mgen.core.contracts.live): the tune `write` writes, read by the
        fast ABC reader (chords by their top note; music21, which renders it, plays them all)."""
        from mgen.formats.abc.read import tune_score

        return tune_score(self.text(tokens))

    def write(self, tokens: list[str], path: Path) -> Path:
        path = Path(path).with_suffix(self.format.suffix)
        return write_text(path, self.text(tokens))  # atomic: never a half-written tune

    def grammar(self, vocab: Vocab, num_samples: int) -> AbcGrammar:
        """The grammar hook (mgen.core.contracts.grammar): only tunes the strict judge accepts."""
        return AbcGrammar(vocab, num_samples)

    def attributes(self, tokens: list[str]) -> dict[str, str]:
        """The controls hook (mgen.core.contracts.controls): the tune's own K:, M: and Q:
        header fields (its key, meter and tempo)."""
        return abc_attributes("".join(tokens))

    span_unit = "bar"

    def spans(self, tokens: list[str]) -> list[tuple[int, int]]:
        """The infill hook (mgen.core.contracts.infill): where each bar of the body begins;
        the header is never part of a span."""
        from mgen.plugins.tokenizers.spans import abc_spans

        lines = "".join(tokens).splitlines(keepends=True)
        return abc_spans(tokens, sum(map(len, lines[: _header_length(lines)])))

    def join(self, prefix: list[str], middle: list[str], suffix: list[str], old: list[str]):
        """A tune with a new middle: one that stops inside a bar is closed with a bar line, so
        the suffix's bars stay bars of their own."""
        del old
        text = "".join(middle).rstrip()
        closed = not text or re.search(r"\|[|\]:]*$", text)
        return [*prefix, *middle, *([] if closed else ["|"]), *suffix]

    def melody(self, tokens: list[str]) -> list[int]:
        """The tune's top pitch at every note onset (key, accidentals, octaves, chords by their
        top note, ties), read by a small ABC pitch reader without music21 (`abc_music`)."""
        from mgen.formats.abc.music import melody

        return melody("".join(tokens))
