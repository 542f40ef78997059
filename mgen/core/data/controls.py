"""Attribute controls in the training data (mgen.core.contracts.controls): every piece opened
by its attributes as tokens, each attribute left out at random.

`controlled` reads each piece's attributes once (from its tokens: the tokenizer's `attributes`,
a key estimated from its melody, its length band and collection), leaves each out with
probability `dropout` (per piece, from the seed alone, so a resumed run reads the same pieces)
and returns the split over a corpus whose pieces begin with the kept ones. So sampling with no
control asked, or only some, is what training saw. The share of pieces that kept each attribute
is measured and goes into config.json's data block (`controls`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mgen.core.contracts import controls, registry
from mgen.core.contracts.errors import ConfigError
from mgen.core.contracts.judge import count_notes, melody
from mgen.core.contracts.tokenizer import Tokenizer
from mgen.core.data.corpus import Corpus
from mgen.formats.keys import estimate_key, normal_key

_SALT = 0xC0 + 0x7_0000  # mixed into the seed, so the draws do not repeat the split's


def piece_attributes(tok: Tokenizer, tokens: list[str], file: str) -> dict[str, str]:
    """Every attribute of one piece that can be read: the tokenizer's own first."""
    own = tok.attributes(tokens) if controls.has_controls(tok) else {}  # type: ignore[attr-defined]
    out = {k: str(v) for k, v in own.items() if k in controls.ATTRIBUTES and v}
    if "key" in out:
        out["key"] = normal_key(out["key"]) or ""
    else:
        out["key"] = estimate_key(melody(tok, tokens) or []) or ""
    notes = count_notes(tok, tokens)
    out.setdefault("length", controls.length_band(len(tokens) if notes is None else notes))
    out.setdefault("collection", Path(file).parent.name)
    if "meter" in out or "tempo" in out:
        out.update({k: controls.normal(k, out[k]) for k in ("meter", "tempo") if k in out})
    return {k: v for k, v in out.items() if v}


def check(tok: Tokenizer, names: Sequence[str]) -> list[str]:
    """The attributes `--controls` names ("all": every one), checked against the tokenizer."""
    wanted = list(controls.ATTRIBUTES) if list(names) == ["all"] else list(names)
    unknown = [n for n in wanted if n not in controls.ATTRIBUTES]
    if unknown:
        raise ConfigError(f"--controls: unknown attribute {', '.join(unknown)}; "
                          f"known: {', '.join(controls.ATTRIBUTES)}, all")  # fmt: skip
    if wanted and not controls.has_controls(tok):
        able = ", ".join(registry.names_with("tokenizer", "attributes")) or "none installed"
        raise ConfigError(f"--controls: {type(tok).__name__} reads no attributes of its pieces; "
                          f"tokenizers with controls: {able}")  # fmt: skip
    return wanted


def open_pieces(
    tok: Tokenizer,
    corpus: Corpus,
    names: Sequence[str],
    dropout: float,
    seed: int,
    every: int = 0,
) -> tuple[Corpus, dict[str, float]]:
    """`corpus` with every piece opened by its kept control tokens (and, with `every`, those
    again before each `every`-th token of the piece: `restated`), and the share of pieces that
    kept each attribute (of those that have it)."""
    rng = np.random.default_rng([seed, _SALT])
    table, index = list(corpus.tokens), {t: i for i, t in enumerate(corpus.tokens)}
    parts, sizes, had, kept = [], [], dict.fromkeys(names, 0), dict.fromkeys(names, 0)
    for i in range(len(corpus)):
        body = corpus.ids[corpus.offsets[i] : corpus.offsets[i + 1]]
        attrs = piece_attributes(tok, [table[j] for j in body], corpus.files[corpus.piece_file[i]])
        keep = rng.random(len(controls.ATTRIBUTES)) >= dropout
        head = []
        for n, name in enumerate(controls.ATTRIBUTES):
            if name in had and name in attrs:
                had[name] += 1
                if keep[n]:
                    kept[name] += 1
                    head.append(index.setdefault(controls.token(name, attrs[name]), len(index)))
        body = restated(np.asarray(body, dtype=np.int64), head, every)
        parts += [np.asarray(head, dtype=np.int64), body]
        sizes.append(len(head) + len(body))
    table = list(index)
    ids = np.concatenate(parts).astype(np.uint16 if len(table) < 2**16 else np.int32)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    out = dataclasses.replace(corpus, tokens=table, ids=ids, offsets=offsets)
    return out, {n: round(kept[n] / had[n], 3) for n in names if had[n]}


def restated(body: np.ndarray, head: list[int], every: int) -> np.ndarray:
    """`body` with `head` again before its `every`-th, 2*`every`-th, ... token (never after its
    last): what sampling restates (contracts.controls.ControlGrammar)."""
    if not every or not head:
        return body
    cuts = np.arange(every, len(body), every)  # before these tokens, each time all of head
    return np.insert(body, np.repeat(cuts, len(head)), np.tile(head, len(cuts)))


def controlled(
    split: Any,
    tok: Tokenizer,
    names: Sequence[str],
    dropout: float,
    seed: int,
    every: int = 0,
) -> tuple[Any, dict[str, Any]]:
    """`split` (prepare.Split) over pieces opened by their controls, and config.json's record
    of them (the share of pieces that kept each attribute): {} when `names` is empty."""
    wanted = check(tok, names)
    if not wanted:
        return split, {}
    corpus, shares = open_pieces(tok, split.corpus, wanted, dropout, seed, every)
    held = corpus if split.held is split.corpus else open_pieces(
        tok, split.held, wanted, dropout, seed + 1, every)[0]  # fmt: skip
    return dataclasses.replace(split, corpus=corpus, held=held), {"controls_kept": shares}
