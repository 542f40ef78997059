"""Infilling a span of a file with a run trained with `--infill` (mgen.core.contracts.infill):
`mgen sample --infill FILE --bars A-B`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mgen.core.contracts import infill
from mgen.core.contracts.decoder import build_decoder
from mgen.core.contracts.errors import ConfigError, DataError
from mgen.core.contracts.vocabulary import require_vocab
from mgen.core.sampling.engine import GrammarReport, check_request, generate


def read_parts(run: Any, path: Path | str, first: int, last: int) -> tuple[list[str], ...]:
    """(prefix, middle, suffix) of the first piece of `path` read by the run's tokenizer:
    ConfigError for a run not trained for infilling or a span outside the piece, DataError
    for a file it cannot read."""
    tok = run.tokenizer
    if not infill.trained(require_vocab(tok)):
        raise ConfigError("--infill: this run was not trained for infilling (mgen train --infill)")
    if not infill.has_spans(tok):
        raise ConfigError(f"--infill: {run.tokenizer_name} cannot say where its bars begin")
    path = Path(path)
    if not path.is_file():
        raise DataError(f"--infill: cannot read {path}: no such file")
    pieces = tok.read(path)
    if not pieces:
        raise DataError(f"--infill: {path} holds no piece {run.tokenizer_name} can read")
    return infill.cut(tok, pieces[0], first, last)


def fill(
    run: Any,
    parts: tuple[list[str], ...],
    n: int,
    num_samples: int,
    decoder: str | None,
    *,
    seed: int = 0,
    grammar: bool = True,
    rules: list[str] | None = None,
    report: GrammarReport | None = None,
    **options: Any,
) -> list[list[str]]:
    """`num_samples` pieces: the prefix, a new middle of up to `n` tokens and the suffix
    (`parts`, from `read_parts`), joined as the tokenizer says. The grammar, where the
    tokenizer has one, is fed the prefix and constrains the middle (contracts.infill)."""
    check_request(n, num_samples, seed)
    decoder, options = run.resolve_decoding(decoder, options)
    tok, dec = run.tokenizer, build_decoder(decoder, options)
    vocab = require_vocab(tok)
    opening = infill.layout(parts[0], [], parts[2])
    guide = run.grammar_for(num_samples, rules) if grammar else None
    if guide is not None:  # with the rules (None: the run's chosen ones), for the middle
        guide = infill.InfillGrammar(guide, vocab)
        guide.feed(opening)
    ids = generate(
        run.model, [vocab.start_id, *vocab.encode(opening)], steps=n, num_samples=num_samples,
        decoder=dec, vocab=vocab, seed=seed, device=run.device, grammar=guide,
        report=report if report is not None else GrammarReport(),
    )  # fmt: skip
    return [infill.join(tok, parts, vocab.decode(row)) for row in ids]


def middle_units(tok: Any, piece: list[str], parts: tuple[list[str], ...], asked: int) -> int:
    """How many bars (beats) the new middle of `piece` has, the `asked` number of the old
    one's: read back by the tokenizer's spans, the new piece's units less the old one's."""
    return len(tok.spans(piece)) - len(tok.spans([*parts[0], *parts[1], *parts[2]])) + asked
