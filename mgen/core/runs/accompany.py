"""Accompanying one track of a file with new tracks (mgen.core.contracts.accompany):
`mgen sample --accompany FILE --instruments "piano,bass"`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mgen.core.contracts.accompany import accompaniment_of
from mgen.core.contracts.decoder import build_decoder
from mgen.core.contracts.errors import ConfigError, DataError
from mgen.core.contracts.vocabulary import require_vocab
from mgen.core.sampling.engine import GrammarReport, check_request, generate


def accompany(
    run: Any,
    path: Path | str,
    instruments: Sequence[str],
    n: int,
    num_samples: int,
    decoder: str | None,
    *,
    track: int | None = None,
    seed: int = 0,
    rules: list[str] | None = None,
    report: GrammarReport | None = None,
    **options: Any,
) -> list[list[str]]:
    """`num_samples` pieces holding track `track` of `path` note for note (track 1 of each)
    and `instruments` as new tracks of up to `n` new tokens in all (the given track's tokens
    come on top), under the grammar's `rules` (None: the run's chosen ones). DataError where a
    sample did not keep the given track (it ran out of `n`)."""
    check_request(n, num_samples, seed)
    decoder, options = run.resolve_decoding(decoder, options)
    tok, dec = run.tokenizer, build_decoder(decoder, options)
    vocab = require_vocab(tok)
    plan = accompaniment_of(tok, run.tokenizer_name, path, instruments, track)
    inner = run.grammar_for(num_samples, rules)
    if inner is None:
        raise ConfigError(f"--accompany: the {run.tokenizer_name} tokenizer has no grammar")
    guide = plan.grammar(inner, vocab)
    guide.feed(plan.opening)
    ids = generate(
        run.model, [vocab.start_id, *vocab.encode(plan.opening)], steps=n + plan.forced,
        num_samples=num_samples, decoder=dec, vocab=vocab, seed=seed, device=run.device,
        grammar=guide, report=report if report is not None else GrammarReport(),
    )  # fmt: skip
    pieces = [[*plan.opening, *vocab.decode(row)] for row in ids]
    for i, piece in enumerate(pieces):
        why = plan.kept(piece)
        if why is not None:
            raise DataError(f"--accompany: sample {i + 1} did not keep the given track: {why}")
    return pieces
