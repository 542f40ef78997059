"""Classifier-free guidance for attribute controls (`mgen sample --key ... --guidance 2`).

Training leaves each control out of a share of the pieces (`--control-dropout`), so one model
gives both p(next | controls, music) and p(next | music). Sampling with guidance g draws from

    log p_g = log p(next | music) + g * (log p(next | controls, music) - log p(next | music))

(Ho and Salimans 2022; for language models, Sanchez et al. 2023, "Stay on topic with
classifier-free guidance"): g = 1 is the model as trained, g > 1 pushes every step further
toward what the controls ask. The model keeps two states, one opened by the controls and one
without them, and both read every token sampled: twice the work per step.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from mgen.core.contracts.model import SequenceModel


class Guided(nn.Module):
    """`model` under guidance `scale`: called as the engine calls a model, (ids, state) ->
    (logits, state). Its state is the pair (with controls, without); on the first call (state
    None, the prime) the unguided branch reads the prime without the ids in `controls`."""

    def __init__(self, model: SequenceModel, controls: set[int], scale: float):
        super().__init__()
        self.model, self.controls, self.scale = model, controls, float(scale)

    def forward(self, ids: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        if state is None:
            keep = [i for i, t in enumerate(ids[0].tolist()) if t not in self.controls]
            plain = ids[:, keep]  # [K, P'] the prime without its control tokens
            with_c, s_c = self.model(ids, None)  # [K, P, V]
            without, s_u = self.model(plain, None)  # [K, P', V]
            uncond = torch.log_softmax(without[:, -1:].float(), dim=-1)  # [K, 1, V]
        elif self._restating(ids):  # the controls again (--control-every): not unguided news
            with_c, s_c = self.model(ids, state[0])
            s_u, uncond = state[1], state[2]
        else:
            with_c, s_c = self.model(ids, state[0])  # [K, t, V]
            without, s_u = self.model(ids, state[1])
            uncond = torch.log_softmax(without[:, -1:].float(), dim=-1)
        cond = torch.log_softmax(with_c[:, -1:].float(), dim=-1)  # [K, 1, V]
        # -inf - -inf is nan: a token either branch rules out stays ruled out
        guided = uncond + self.scale * (cond - uncond)
        guided = guided.nan_to_num(nan=float("-inf"))
        return guided, (s_c, s_u, uncond)

    def _restating(self, ids: torch.Tensor) -> bool:
        """Whether this step restates a control (any sample took one; the grammar has them
        all take it together)."""
        return any(t in self.controls for t in ids[:, -1].tolist())


def guided(model: SequenceModel, prime: list[int], controls: set[int], scale: float | None):
    """`model`, wrapped in `Guided` when `scale` asks for guidance (not None or 1) and the
    prime holds a control token to guide by; else `model` itself."""
    if scale is None or scale == 1.0 or not controls.intersection(prime):
        return model
    return Guided(model, controls, scale)
