"""Sampling engine: prime once, then one token per step with the recurrent state carried.

The K samples run as one batch [K, 1] per step; nothing is ever recomputed over a window.
"""

from __future__ import annotations

import dataclasses

import torch

from mgen.core.config import Config
from mgen.core.decoder import Decoder
from mgen.core.errors import ConfigError
from mgen.core.model import SequenceModel
from mgen.core.vocab import Vocab


@dataclasses.dataclass
class RepetitionConfig(Config):
    """Logit adjustments applied before any decoder, so every decoder can avoid loops."""

    # Defaults measured in docs/evaluation.md. The n-gram ban stops argmax holding one note
    # forever (kern) and leaves sampling nearly untouched; the penalty, which `mgen sample`
    # turns on for argmax only, stops greedy one-note loops but shortens or lengthens sampled
    # notes. 1.0 and 0 switch them off.
    repetition_penalty: float = 1.0  # >1 divides positive logits of recently used tokens
    repetition_window: int = 32  # how many recent tokens the penalty looks at
    no_repeat_ngram: int = 16  # >0 forbids repeating any n-gram of this length

    def validate(self) -> None:
        if self.repetition_penalty < 1.0:
            raise ConfigError(f"--repetition-penalty must be >= 1, got {self.repetition_penalty}")
        if self.repetition_window < 1:
            raise ConfigError("--repetition-window must be >= 1")
        if self.no_repeat_ngram < 0 or self.no_repeat_ngram == 1:
            raise ConfigError("--no-repeat-ngram must be 0 (off) or >= 2")


#: The repetition penalty for argmax: sampling escapes loops by chance, greedy decoding cannot
#: (measured in docs/evaluation.md).
GREEDY_PENALTY = 1.3


def default_repetition(decoder: str) -> RepetitionConfig:
    """The loop guards a decoder gets unless told otherwise."""
    penalty = GREEDY_PENALTY if decoder == "argmax" else RepetitionConfig.repetition_penalty
    return RepetitionConfig(repetition_penalty=penalty)


def penalize(logits: torch.Tensor, history: torch.Tensor, rep: RepetitionConfig) -> torch.Tensor:
    """logits [K, V], history [K, t] of generated ids -> adjusted logits [K, V]."""
    if rep.repetition_penalty > 1.0 and history.shape[1]:
        recent = history[:, -rep.repetition_window :]  # [K, w]
        seen = torch.zeros_like(logits, dtype=torch.bool).scatter_(1, recent, True)
        scaled = torch.where(
            logits > 0, logits / rep.repetition_penalty, logits * rep.repetition_penalty
        )
        logits = torch.where(seen, scaled, logits)
    n = rep.no_repeat_ngram
    if n >= 2 and history.shape[1] >= n:
        logits = logits.clone()
        # For each sample: every earlier (n-1)-gram equal to the current suffix bans its successor.
        windows = history.unfold(1, n, 1)  # [K, t-n+1, n]
        suffix = history[:, -(n - 1) :].unsqueeze(1)  # [K, 1, n-1]
        hit = (windows[:, :, :-1] == suffix).all(-1)  # [K, t-n+1]
        rows, cols = hit.nonzero(as_tuple=True)
        logits[rows, windows[rows, cols, -1]] = float("-inf")
    return logits


@torch.inference_mode()
def generate(
    model: SequenceModel,
    prime: list[int],
    *,
    steps: int,
    num_samples: int,
    decoder: Decoder,
    vocab: Vocab,
    seed: int,
    device: torch.device | str = "cpu",
    repetition: RepetitionConfig | None = None,
    stop_at_end: bool = True,
) -> list[list[int]]:
    """Return `num_samples` continuations of `prime` (ids), each ending before <end> or at
    `steps`. With `stop_at_end` off, <end> is banned and every sample runs all its steps
    (what a speed measurement wants)."""
    rep = repetition or RepetitionConfig()
    model.eval()
    gen = torch.Generator(device=device).manual_seed(seed)
    x = torch.tensor([prime] * num_samples, dtype=torch.long, device=device)  # [K, P]
    logits, state = model(x)  # prime in one fused call; keep only the last step
    logits = logits[:, -1]  # [K, V]
    never = [vocab.pad_id, vocab.start_id, vocab.unk_id] + ([] if stop_at_end else [vocab.end_id])
    banned = torch.tensor(never, device=device)
    out = torch.empty(num_samples, 0, dtype=torch.long, device=device)  # [K, t]
    finished = torch.zeros(num_samples, dtype=torch.bool, device=device)
    for _ in range(steps):
        logits = logits.float().index_fill(1, banned, float("-inf"))
        nxt = decoder(penalize(logits, out, rep), gen)  # [K]
        nxt = torch.where(finished, vocab.end_id, nxt)  # finished samples just repeat <end>
        out = torch.cat([out, nxt[:, None]], dim=1)
        finished |= nxt == vocab.end_id
        if bool(finished.all()):
            break
        logits, state = model(nxt[:, None], state)  # [K, 1] in, state carried
        logits = logits[:, -1]
    samples = []
    for row in out.tolist():
        samples.append(row[: row.index(vocab.end_id)] if vocab.end_id in row else row)
    return samples
