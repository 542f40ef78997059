"""One way to score a model on token windows: used by validation during training and by
`mgen eval --run` on held-out files, so both print the same figure for the same windows."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from mgen.core.batches import Windows
from mgen.core.device import autocast


@dataclass
class Score:
    """Sums over the predicted tokens; add two Scores to merge them (e.g. over ranks)."""

    nats: float = 0.0  # summed cross-entropy
    correct: int = 0  # argmax predictions equal to the target
    tokens: int = 0

    def metrics(self, prefix: str = "val_") -> dict[str, float]:
        """Mean loss in nats and bits per token, and accuracy; empty when nothing was scored."""
        if not self.tokens:
            return {}
        nats = self.nats / self.tokens
        return {
            f"{prefix}loss": nats,
            f"{prefix}bits": nats / math.log(2),
            f"{prefix}acc": self.correct / self.tokens,
        }


@torch.no_grad()
def score_windows(
    model: torch.nn.Module,
    windows: Windows,
    window_ids: np.ndarray,
    device: torch.device,
    precision: str = "fp32",
) -> Score:
    """Teacher-forced cross-entropy over the chosen windows, batch by batch, each window from
    a zero state. The model runs under `precision`; the loss is always taken in fp32."""
    model.eval()
    score, bs = Score(), windows.batch_size
    for start in range(0, len(window_ids), bs):
        x, y = windows.batch(window_ids[start : start + bs])
        xt, yt = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
        with autocast(device, precision):
            logits, _ = model(xt)  # [B, T, V]
        flat = logits.float().flatten(0, 1)  # [B*T, V]
        score.nats += float(F.cross_entropy(flat, yt.flatten(), reduction="sum"))
        score.correct += int((flat.argmax(-1) == yt.flatten()).sum())
        score.tokens += y.size
    return score
