"""Fill-in-the-middle training pieces (mgen.core.contracts.infill): a share of the pieces cut
in three and read suffix first, then prefix, then the middle, after sentinel tokens.

`infilled` rewrites each piece chosen (with probability `share`, from the seed alone, so a
resumed run reads the same pieces) as `<suffix> S <prefix> P <middle> M`, cut at two span
boundaries where the tokenizer offers them (bars, beats), else at two token positions; control
tokens opening a piece (data.controls) stay in front. The rewritten pieces are ordinary pieces
of the corpus, so every batching (lanes, piece-lanes, pieces, windows) and transposition read
them as they read any other. The training pieces are cut anew each epoch (mgen.core.data.refill);
the validation pieces keep the cut drawn here. The share of pieces rewritten goes into
config.json's data block (`infill`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from mgen.core.contracts import controls, infill
from mgen.core.contracts.errors import ConfigError, MgenError
from mgen.core.contracts.tokenizer import Tokenizer
from mgen.core.data.corpus import Corpus

_SALT = 0xF1  # mixed into the seed, so the draws do not repeat the split's or the controls'


def boundaries(tok: Tokenizer, tokens: list[str]) -> list[int]:
    """Where a piece may be cut: its span boundaries (and both ends), else every position."""
    if infill.has_spans(tok):
        try:
            found = {o for _, o in tok.spans(tokens)}  # type: ignore[attr-defined]
        except MgenError:
            found = set()
        if len(found) >= 2:
            return sorted(found | {len(tokens)})
    return list(range(len(tokens) + 1))


def rewrite(tok: Tokenizer, tokens: list[str], rng: np.random.Generator) -> list[str]:
    """One piece in fill-in-the-middle order, cut at two boundaries drawn at random."""
    n = 0
    while n < len(tokens) and controls.parse(tokens[n]) is not None:
        n += 1
    head, body = tokens[:n], tokens[n:]
    cuts = boundaries(tok, body)
    a, b = sorted(rng.choice(cuts, size=2, replace=len(cuts) < 2))
    return [*head, *infill.layout(body[:a], body[a:b], body[b:])]


def fim_corpus(tok: Tokenizer, corpus: Corpus, share: float, seed: int) -> tuple[Corpus, int]:
    """`corpus` with a share of its pieces rewritten; -> (it, how many were)."""
    rng = np.random.default_rng([seed, _SALT])
    table, index = list(corpus.tokens), {t: i for i, t in enumerate(corpus.tokens)}
    parts, sizes, done = [], [], 0
    for i in range(len(corpus)):
        body = corpus.ids[corpus.offsets[i] : corpus.offsets[i + 1]]
        ids = np.asarray(body, dtype=np.int64)
        if rng.random() < share and len(body) > 1:
            tokens = rewrite(tok, [table[j] for j in body], rng)
            ids = np.asarray([index.setdefault(t, len(index)) for t in tokens], dtype=np.int64)
            done += 1
        parts.append(ids)
        sizes.append(len(ids))
    table = list(index)
    ids = np.concatenate(parts).astype(np.uint16 if len(table) < 2**16 else np.int32)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return dataclasses.replace(corpus, tokens=table, ids=ids, offsets=offsets), done


def infilled(split: Any, tok: Tokenizer, share: float, seed: int) -> tuple[Any, dict[str, Any]]:
    """`split` (prepare.Split) with a share of its pieces (training and validation, each side
    drawn apart) rewritten for infilling, and config.json's record of it; `split` itself and {}
    when `share` is 0."""
    if not share:
        return split, {}
    if not 0 < share <= 1:
        raise ConfigError(f"--infill-share must be in [0, 1], got {share}")
    corpus, done = fim_corpus(tok, split.corpus, share, seed)
    held = corpus if split.held is split.corpus else fim_corpus(tok, split.held, share,
                                                                 seed + 1)[0]  # fmt: skip
    record = {"share": share, "pieces": done, "of": len(corpus), "cut_at": infill.unit(tok)
              if infill.has_spans(tok) else "token", "cut": "anew each epoch"}  # fmt: skip
    return dataclasses.replace(split, corpus=corpus, held=held), {"infill": record}
