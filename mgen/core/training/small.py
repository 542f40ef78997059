"""Advice for a small corpus: a shipped model that reads its format learns more from it.

Measured (docs/training.md, "Small corpora"): on ~800 ABC tunes (about 200,000 characters),
lstm2 from scratch peaked on validation after ~18 epochs and then learnt the tunes by heart,
while the shipped folk-abc fine-tuned on them reached a test loss 6% lower; on 200 Essen songs
(38,000 kern tokens) the shipped palestrina-kern fine-tuned reached in 10 CPU-seconds what
training from scratch reached only near the end of 120. Below `SMALL_TOKENS` training tokens,
`mgen train` says so and gives the `--init` command, once, before training starts.
"""

from __future__ import annotations

import shlex
from typing import Any

from mgen.core.training.train_config import TrainConfig

#: A corpus with fewer training tokens than this is small: both measurements above lie below
#: it (about 200,000 and 38,000), every shipped model's own corpus above it (330,000 for
#: bach-satb's chorales to 2.5 million for folk-abc's tunes).
SMALL_TOKENS = 250_000


def advice(cfg: TrainConfig, summary: dict[str, Any]) -> str | None:
    """The note for a new run from scratch on a small corpus, where a shipped model reads the
    same tokenizer's tokens; None otherwise."""
    from mgen.core.runs.pretrained import list_pretrained

    tokens = summary.get("train_tokens")
    if cfg.init or tokens is None or tokens >= SMALL_TOKENS:
        return None
    fits = [m.name for m in list_pretrained() if m.error is None and m.tokenizer == cfg.tokenizer]
    if not fits:
        return None
    data = "".join(f" --data {shlex.quote(str(d))}" for d in cfg.data)
    return (
        f"note: {summary.get('train_pieces', 0):,} training pieces ({tokens:,} tokens) is a "
        f"small corpus: from scratch a model soon learns it by heart. The shipped {fits[0]} "
        f"reads {cfg.tokenizer}; fine-tuned on it, it starts from what it knows and reaches a "
        f"lower validation loss: mgen train --init {fits[0]}{data}"
    )
