"""`mgen eval --run RUN --data PATH`: a trained model's loss on data it never saw.

The files go through the run's own tokenizer and the same pipeline as training (pieces wrapped
in <start>/<end>, non-overlapping windows of the run's sequence length, each from a zero state),
and the loss is training's: mean cross-entropy per predicted token. Symbols the run's vocabulary
lacks become <unk>, as they would in training; they are counted so a low loss is not a surprise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mgen.core import rundir
from mgen.core.data import Windows, find_files, load_corpus, token_stream
from mgen.core.errors import ConfigError, DataError
from mgen.core.train import corpus_files

Log = Callable[[str], None]


def heldout_loss(
    run: Path,
    data: Sequence[str],
    device: torch.device | str = "cpu",
    batch_size: int = 64,
    log: Log = print,
) -> dict[str, Any]:
    """Loss (nats and bits per token) and next-token accuracy of `run` on the files in `data`."""
    if not data:
        raise ConfigError("--run needs --data: the files or folders to measure the loss on")
    if batch_size < 1:
        raise ConfigError("--batch-size must be >= 1")
    run_dir, config, tok, model = rundir.load_run(run, device)
    vocab = tok.vocab
    assert vocab is not None  # load_run restores it
    files = corpus_files(tok, list(data))
    corpus = load_corpus(tok, files, progress=False, warn=log)
    if len(corpus) == 0:
        raise DataError(f"no usable piece in {len(files)} file(s) under {', '.join(data)}")
    pieces = np.arange(len(corpus))
    counts = corpus.counts(pieces)
    unknown = {t: c for t, c in counts.most_common() if t not in vocab}
    stream = token_stream(corpus, pieces, vocab)
    seq_len = min(int(config.get("seq_len", 128)), len(stream) - 1)
    if seq_len < 1:
        raise DataError("the pieces are too short to measure a loss on")
    nats, acc, predicted = _score(model, Windows(stream, seq_len, batch_size), device)
    body = int(sum(counts.values()))
    return {
        "run": str(run_dir),
        "tokenizer": config.get("tokenizer"),
        "model": config.get("model"),
        "data": [str(d) for d in data],
        "files": len(files),
        "used_files": len(corpus.files),
        "skipped_files": len(corpus.skipped),
        "pieces": len(corpus),
        "tokens": len(stream),
        "predicted_tokens": predicted,
        "seq_len": seq_len,
        "loss_nats": nats,
        "loss_bits": nats / math.log(2),
        "accuracy": acc,
        "unknown_tokens": int(sum(unknown.values())),
        "unknown_share": sum(unknown.values()) / body if body else 0.0,
        "unknown_symbols": {t: int(c) for t, c in list(unknown.items())[:50]},
        "distinct_unknown_symbols": len(unknown),
        "training_overlap": _overlap(config, tok, files),
        "run_best_val_loss": _best_val(run_dir),
    }


@torch.no_grad()
def _score(model, windows: Windows, device) -> tuple[float, float, int]:
    """Mean cross-entropy (nats) and accuracy over every window, in order; and the token count."""
    model.eval()
    total, correct, count = 0.0, 0, 0
    ids = np.arange(windows.n_windows)
    for b in range(windows.batches_per_epoch()):
        x, y = windows.batch(ids[b * windows.batch_size : (b + 1) * windows.batch_size])
        xt, yt = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
        logits, _ = model(xt)  # [B, T, V], fp32: evaluation wants exact numbers
        flat = logits.float().flatten(0, 1)  # [B*T, V]
        total += float(F.cross_entropy(flat, yt.flatten(), reduction="sum"))
        correct += int((flat.argmax(-1) == yt.flatten()).sum())
        count += y.size
    if count == 0:
        raise DataError("the pieces are too short to measure a loss on")
    return total / count, correct / count, count


def _overlap(config: dict[str, Any], tok, files: list[Path]) -> int | None:
    """How many of `files` the run trained on (None when it trained on the default dataset,
    which is not read here: it may need materializing)."""
    trained = config.get("train", {}).get("data") or []
    if not trained:
        return None
    try:
        seen = set(find_files([Path(d) for d in trained], tok.file_patterns))
    except DataError:
        return None  # the training data has moved since
    return sum(f in seen for f in files)


def _best_val(run: Path) -> float | None:
    vals = [r["val_loss"] for r in rundir.read_metrics(run) if isinstance(r.get("val_loss"), float)]
    return min(vals) if vals else None


def render_text(r: dict[str, Any]) -> str:
    lines = [
        f"run {r['run']} ({r['model']} on {r['tokenizer']})",
        f"data: {r['pieces']} pieces from {r['used_files']} of {r['files']} files, "
        f"{r['predicted_tokens']:,} tokens predicted (windows of {r['seq_len']})",
        f"loss: {r['loss_nats']:.4f} nats/token ({r['loss_bits']:.3f} bits/token), "
        f"accuracy {r['accuracy']:.3f}",
    ]
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
