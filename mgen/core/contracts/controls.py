"""Attribute controls, an optional protocol: a training piece's attributes (key, meter, tempo
band, length band, collection) as tokens at its start, so sampling can ask for them
(`mgen sample --key "D minor" --meter 6/8 --tempo 120`) and fill in the ones not asked for.

A tokenizer opts in with `attributes(piece) -> {name: value}`: what its tokens say of one piece
(abc-char: its K:, M: and Q: header fields; midi-tracks: its first meter_ and tempo_). Training
with `--controls` (mgen.core.data.controls) adds the rest (a key estimated from the melody, the
length band, the collection: the folder of the file) and opens every training piece with one
token per attribute, `<key=D_minor>`, in the order of ATTRIBUTES, each left out at random. The
vocabulary is then the one record of what a run knows: `known(vocab)`. Sampling opens the
primer with the asked tokens (`opening`, checked against it) and `ControlGrammar` lets a
tokenizer's grammar start after them; `strip` takes them out before a piece is written. The
ensemble is chosen as before, by the tokenizer's own header (contracts.ensemble).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from mgen.core.contracts.errors import ConfigError
from mgen.core.contracts.grammar import Grammar
from mgen.core.contracts.vocab import Vocab
from mgen.formats.keys import move_key, normal_key

ATTRIBUTES = ("collection", "length", "key", "meter", "tempo")  # the order tokens come in
#: Tempo bands: quarter notes per minute from each edge up to the next.
TEMPO_EDGES = (0, 60, 76, 96, 120, 144, 176)
#: Length bands: notes (tokens for a tokenizer that does not count notes) up to each edge.
LENGTH_BANDS = {"short": 64, "medium": 256, "long": 1024, "very-long": 1 << 62}


@runtime_checkable
class HasAttributes(Protocol):
    def attributes(self, piece: list[str]) -> dict[str, str]: ...


def has_controls(tok: object) -> bool:
    return isinstance(tok, HasAttributes)


def token(name: str, value: str) -> str:
    return f"<{name}={value.replace(' ', '_')}>"


def parse(tok: str) -> tuple[str, str] | None:
    """(name, value) of a control token; None for any other token."""
    if not (tok.startswith("<") and tok.endswith(">") and "=" in tok):
        return None
    name, _, value = tok[1:-1].partition("=")
    return (name, value.replace("_", " ")) if name in ATTRIBUTES else None


def ids(vocab: Vocab) -> set[int]:
    """The ids of `vocab`'s control tokens (empty for a run trained without controls)."""
    return {i for i, t in enumerate(vocab.tokens) if parse(t) is not None}


def strip(tokens: Sequence[str]) -> list[str]:
    """`tokens` without control tokens (what the tokenizer writes)."""
    return [t for t in tokens if parse(t) is None]


def tempo_band(bpm: float) -> str:
    """The band of `bpm`: "96-119", or "176+" above the last edge."""
    lo = max(e for e in TEMPO_EDGES if e <= max(bpm, 0))
    i = TEMPO_EDGES.index(lo)
    return f"{lo}+" if i + 1 == len(TEMPO_EDGES) else f"{lo}-{TEMPO_EDGES[i + 1] - 1}"


def length_band(count: int) -> str:
    return next(name for name, top in LENGTH_BANDS.items() if count <= top)


def normal(name: str, value: Any) -> str:
    """A value as the tokens spell it: a key "dm" as "D minor", a tempo 120 as its band,
    a meter "C" as 4/4; ConfigError for one that cannot be read."""
    text = str(value).strip()
    if name == "key":
        found = normal_key(text)
        if found is None:
            raise ConfigError(f'--key: {text!r} is not a key (e.g. "D minor", "F# major")')
        return found
    if name == "tempo" and text.replace(".", "", 1).isdigit():
        return tempo_band(float(text))
    if name == "meter":
        return {"C": "4/4", "C|": "2/2"}.get(text, text.replace(" ", ""))
    return text


def known(vocab: Vocab) -> dict[str, list[str]]:
    """The attributes a run was trained with and the values it saw, from its vocabulary."""
    out: dict[str, list[str]] = {}
    for t in vocab.tokens:
        found = parse(t)
        if found:
            out.setdefault(found[0], []).append(found[1])
    return {name: sorted(out[name]) for name in ATTRIBUTES if name in out}


def opening(vocab: Vocab, asked: Mapping[str, Any]) -> list[str]:
    """The control tokens for `asked` ({name: value}; None or "" left out), in their order;
    ConfigError naming what the run knows for an attribute or a value it was not trained on."""
    asked = {k: v for k, v in asked.items() if v is not None and str(v).strip() != ""}
    if not asked:
        return []
    have = known(vocab)
    out = []
    for name in sorted(asked, key=lambda n: ATTRIBUTES.index(n) if n in ATTRIBUTES else -1):
        if name not in have:
            trained = ", ".join(have) or "none (train with --controls)"
            raise ConfigError(f"--{name}: this run was not trained with a {name} control; "
                              f"its controls: {trained}")  # fmt: skip
        value = normal(name, asked[name])
        if value not in have[name]:
            raise ConfigError(f"--{name}: this run never saw {name} {value!r}; it knows: "
                              f"{', '.join(have[name])}")  # fmt: skip
        out.append(token(name, value))
    return out


def move(tok: str, semitones: int) -> str | None:
    """A key control token moved by `semitones` (transposition); None for any other token."""
    found = parse(tok)
    if found is None or found[0] != "key":
        return None
    moved = move_key(found[1], semitones)
    return token("key", moved) if moved else None


@runtime_checkable
class Asks(Protocol):
    """A grammar that writes what was asked where its format says it (abc-char: the asked key
    and meter as the tune's K: and M: fields): told each asked attribute of each sample."""

    def ask(self, sample: int, name: str, value: str) -> None: ...


class ControlGrammar(Grammar):
    """A tokenizer's grammar behind the control tokens: the asked ones, fed as the opening,
    pass it by (told to it, if it `Asks`); while sampling, control tokens are never allowed
    (what was not asked for the model fills in unsaid, as training taught it with attributes
    left out), except that a run trained with `--control-every N` has the asked ones
    restated after every N tokens of the piece, as its training pieces had them."""

    def __init__(self, inner: Grammar, vocab: Vocab, every: int = 0):
        super().__init__(vocab, inner.k)
        self.inner, self.every = inner, every
        self.control = np.zeros(len(vocab.tokens), dtype=bool)  # [V]: which ids are controls
        self.control[sorted(ids(vocab))] = True
        self.head: list[int] = []  # the asked control ids, in order
        self.count = 0  # tokens of the piece since it opened or the controls were restated
        self.due: list[int] = []  # control ids still to restate, one a step

    def allowed(self) -> np.ndarray:
        if self.due:  # every sample takes the next restated control
            only = np.zeros((self.k, len(self.control)), dtype=bool)
            only[:, self.due[0]] = True
            return only
        return self.inner.allowed() & ~self.control[None, :]

    def advance(self, ids: np.ndarray) -> None:
        if self.due:  # this step restated a control: the piece's own grammar never sees it
            self.due.pop(0)
        elif self.control[ids].all():
            self._asked(ids)
        else:
            self.inner.advance(ids)
            self.count += 1
            if self.every and self.head and self.count % self.every == 0:
                self.due = list(self.head)

    def _asked(self, ids: np.ndarray) -> None:
        """An asked control of the opening, the same for every sample."""
        self.head.append(int(ids[0]))
        if isinstance(self.inner, Asks):
            for i, token_id in enumerate(ids.tolist()):
                name, value = parse(self.vocab.tokens[token_id])  # type: ignore[misc]
                self.inner.ask(i, name, value)


def with_controls(grammar: Grammar | None, vocab: Vocab, every: int = 0) -> Grammar | None:
    """`grammar` behind the control tokens when the vocabulary has any (`every`: the run's
    `control_every`, how often its pieces restate their controls)."""
    if grammar is None or not known(vocab):
        return grammar
    return ControlGrammar(grammar, vocab, every)
