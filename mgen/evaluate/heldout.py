"""`mgen eval --run RUN --data PATH`: a trained model's loss on data it never saw.

The files go through the run's own tokenizer; every piece is scored from <start> to <end> with
the model's state carried through, in fp32: `mgen.core.sampling.scoring.score_pieces`, validation's own
scorer, so the same files give the same figure here and in training's validation. Per token and,
where the tokenizer counts notes, per note. Symbols the run's vocabulary lacks become <unk>, as
they would in training; they are counted so a low loss is not a surprise.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mgen.core.contracts import registry
from mgen.core.contracts.errors import ConfigError, DataError, MgenError
from mgen.core.contracts.judge import count_notes
from mgen.core.contracts.vocab import Vocab
from mgen.core.contracts.vocabulary import require_vocab
from mgen.core.data.batches import piece_arrays
from mgen.core.data.corpus import load_corpus
from mgen.core.data.prepare import corpus_files
from mgen.core.runs.run import Run, load_run
from mgen.core.sampling.scoring import score_pieces
from mgen.core.training.history import best_val_loss

Log = Callable[[str], None]


def heldout_loss(
    run: Run | Path | str,
    data: Sequence[str],
    device: torch.device | str = "cpu",
    batch_size: int = 16,
    log: Log = print,
) -> dict[str, Any]:
    """The likelihood of every piece in `data` (files, folders or dataset names) under `run`
    (a loaded Run, which keeps its device, or a run directory loaded onto `device`): each
    piece from <start> to <end> with the state carried, in fp32, as validation scores it."""
    _check(data, batch_size)
    loaded = run if isinstance(run, Run) else load_run(run, device)
    tok, vocab = loaded.tokenizer, require_vocab(loaded.tokenizer)
    files = corpus_files(tok, list(data), progress=False)
    corpus = load_corpus(tok, files, progress=False, warn=log)
    if len(corpus) == 0:
        raise DataError(f"no usable piece in {len(files)} file(s) under {', '.join(data)}")
    ids = np.arange(len(corpus))
    notes = [count_notes(tok, corpus.piece(int(i))) for i in ids]
    score = score_pieces(
        loaded.model, piece_arrays(corpus, ids, vocab), loaded.device, unk_id=vocab.unk_id,
        notes=None if None in notes else notes, batch_size=batch_size,
        stateful=loaded.model.carries_state,
    )  # fmt: skip
    return {
        "run": str(loaded.path),
        "tokenizer": loaded.config.get("tokenizer"),
        "model": loaded.config.get("model"),
        "data": [str(d) for d in data],
        "files": len(files),
        "used_files": len(corpus.files),
        "skipped_files": len(corpus.skipped),
        "pieces": len(corpus),
        "predicted_tokens": score.tokens,
        "notes": score.notes or None,
        **_figures(score.metrics(prefix="")),
        **_unknown(corpus.counts(ids), vocab),
        "training_overlap": _overlap(loaded, files),
        "run_best_val_loss": best_val_loss(loaded.path),
    }


def _check(data: Sequence[str], batch_size: int) -> None:
    if not data:
        raise ConfigError("--run needs --data: the files or folders to measure the loss on")
    if batch_size < 1:
        raise ConfigError("--batch-size must be >= 1")


def _figures(m: dict[str, float]) -> dict[str, float | None]:
    return {
        "loss_nats": m["loss"],
        "loss_bits": m["bits"],
        "accuracy": m["acc"],
        "nats_per_note": m.get("nats_note"),
        "bits_per_note": m.get("bits_note"),
    }


def _unknown(counts: Counter[str], vocab: Vocab) -> dict[str, Any]:
    """How many of the tokens read the run's vocabulary lacks (they became <unk>), and which."""
    unknown = {t: c for t, c in counts.most_common() if t not in vocab}
    body = int(sum(counts.values()))
    return {
        "unknown_tokens": int(sum(unknown.values())),
        "unknown_share": sum(unknown.values()) / body if body else 0.0,
        "unknown_symbols": {t: int(c) for t, c in list(unknown.items())[:50]},
        "distinct_unknown_symbols": len(unknown),
    }


def _overlap(run: Run, files: list[Path]) -> int | None:
    """How many of `files` the run trained on; None when that cannot be known without work
    (a default dataset not yet written) or the training data has gone."""
    tok = run.tokenizer
    try:
        if not run.train_data:
            name = tok.recipe.dataset
            if name is None or not registry.load("dataset", name)().ready():
                return None
        seen = {f.resolve() for f in corpus_files(tok, run.train_data, progress=False)}
    except MgenError:
        return None  # the training data has moved since
    return sum(Path(f).resolve() in seen for f in files)


def render_text(r: dict[str, Any]) -> str:
    lines = [
        f"run {r['run']} ({r['model']} on {r['tokenizer']})",
        f"data: {r['pieces']} pieces from {r['used_files']} of {r['files']} files, "
        f"{r['predicted_tokens']:,} tokens predicted, whole pieces with the state carried",
        f"loss: {r['loss_nats']:.4f} nats/token ({r['loss_bits']:.3f} bits/token), "
        f"accuracy {r['accuracy']:.3f}",
    ]
    if r["nats_per_note"] is not None:
        lines.append(
            f"per note: {r['nats_per_note']:.4f} nats ({r['bits_per_note']:.3f} bits), "
            f"{r['notes']:,} notes"
        )
    if r["run_best_val_loss"] is not None:
        lines.append(f"the run's own best validation loss: {r['run_best_val_loss']:.4f} nats/token")
    unk = r["unknown_tokens"]
    line = f"unknown symbols: {unk:,} tokens ({r['unknown_share']:.2%})"
    if unk:
        shown = " ".join(repr(t) for t in list(r["unknown_symbols"])[:10])
        line += f", {r['distinct_unknown_symbols']} distinct, e.g. {shown}"
    lines.append(line)
    if r["training_overlap"]:
        lines.append(
            f"warning: {r['training_overlap']} of these files were in the run's "
            "training data; this is not a held-out loss"
        )
    return "\n".join(lines)
