"""Scoring a model: the likelihood of whole pieces, each from <start> to <end> with the state
carried through. Validation during training and `mgen eval --run` on held-out files both call
`score_pieces`, so both print the same figure for the same files."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass
class Score:
    """Sums over the predicted tokens; `merged` adds two (e.g. over ranks)."""

    nats: float = 0.0  # summed cross-entropy
    correct: int = 0  # argmax predictions equal to the target
    tokens: int = 0  # predicted tokens
    unk: int = 0  # predicted tokens whose target is <unk>
    notes: int = 0  # notes in the scored pieces (0: the tokenizer does not count notes)

    FIELDS = ("nats", "correct", "tokens", "unk", "notes")

    def values(self) -> list[float]:
        return [float(getattr(self, f)) for f in self.FIELDS]

    @classmethod
    def from_values(cls, values: Sequence[float]) -> Score:
        nats, *counts = values
        return cls(nats, *(int(round(c)) for c in counts))

    def metrics(self, prefix: str = "val_") -> dict[str, float]:
        """Nats and bits per token, nats and bits per note (when notes are counted), accuracy,
        share of <unk> targets; empty when nothing was scored."""
        if not self.tokens:
            return {}
        nats = self.nats / self.tokens
        out = {
            f"{prefix}loss": nats,
            f"{prefix}bits": nats / math.log(2),
            f"{prefix}acc": self.correct / self.tokens,
            f"{prefix}unk": self.unk / self.tokens,
        }
        if self.notes:
            out[f"{prefix}nats_note"] = self.nats / self.notes
            out[f"{prefix}bits_note"] = self.nats / self.notes / math.log(2)
        return out


@torch.no_grad()
def score_pieces(
    model: torch.nn.Module,
    pieces: Sequence[np.ndarray],
    device: torch.device,
    *,
    unk_id: int,
    notes: Sequence[int] | None = None,
    stateful: bool = True,
    batch_size: int = 16,
    chunk: int = 512,
    unscored: Sequence[int] = (),
) -> Score:
    """The cross-entropy of every piece ([len] ids from <start> to <end>), in fp32.

    Pieces of similar length go together in batches, padded at the end (padding is never
    scored and, coming last, never influences a scored position). A stateful model reads each
    batch in chunks of `chunk` tokens with its state carried, which gives the same figure as one
    pass over the whole piece with less memory; a model that cannot carry state reads each piece
    in one pass. Targets in `unscored` (ids the sampler gives, never the model: restated
    controls) are read and not scored."""
    model.eval()
    score = Score(notes=int(sum(notes)) if notes is not None else 0)
    order = sorted(range(len(pieces)), key=lambda i: -len(pieces[i]))
    for start in range(0, len(order), batch_size):
        group = [pieces[i] for i in order[start : start + batch_size]]
        seq, mask = _padded(group)  # [B, L] ids, [B, L-1] which targets are real
        mask &= ~np.isin(seq[:, 1:], unscored)
        x = torch.from_numpy(seq[:, :-1]).to(device)
        y = torch.from_numpy(seq[:, 1:]).to(device)
        m = torch.from_numpy(mask).to(device)
        step = chunk if stateful else x.shape[1]
        state = None
        for t in range(0, x.shape[1], step):
            logits, state = model(x[:, t : t + step], state)  # [B, c, V]
            _add(score, logits.float(), y[:, t : t + step], m[:, t : t + step], unk_id)
    return score


def _padded(group: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Pieces right-padded with 0 to one length: ids [B, L] and target mask [B, L-1]."""
    length = max(len(p) for p in group)
    seq = np.zeros((len(group), length), dtype=np.int64)
    mask = np.zeros((len(group), length - 1), dtype=bool)
    for i, p in enumerate(group):
        seq[i, : len(p)] = p
        mask[i, : len(p) - 1] = True
    return seq, mask


def _add(score: Score, logits: torch.Tensor, y: torch.Tensor, m: torch.Tensor, unk: int) -> None:
    """Add the masked positions of one chunk: logits [B, c, V], targets and mask [B, c]."""
    nll = F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none")  # [B*c]
    keep = m.flatten()
    score.nats += float(nll[keep].sum())
    score.correct += int((logits.argmax(-1).flatten() == y.flatten())[keep].sum())
    score.tokens += int(keep.sum())
    score.unk += int((y.flatten() == unk)[keep].sum())
