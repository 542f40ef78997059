"""A trained run, loaded: its settings, tokenizer and model, ready to sample or score."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from mgen.core import rundir
from mgen.core.device import resolve_device
from mgen.core.errors import CheckpointError
from mgen.core.model import SequenceModel
from mgen.core.tokenizer import Tokenizer


@dataclass
class Run:
    path: Path
    config: dict[str, Any]  # config.json
    tokenizer: Tokenizer  # with its vocabulary
    model: SequenceModel  # best weights, in eval mode, on `device`
    device: torch.device

    @property
    def tokenizer_name(self) -> str:
        return str(self.config.get("tokenizer"))

    @property
    def train_data(self) -> list[str]:
        """The --data the run trained on (empty: its tokenizer's default dataset)."""
        data = self.config.get("train", {}).get("data") or []
        return [str(d) for d in data]


def load_run(path: Path | str = "runs/latest", device: str | torch.device = "cpu") -> Run:
    """Load a run directory (`runs/latest` by default) for sampling or scoring."""
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    run = rundir.resolve_run(Path(path))
    config = rundir.read_config(run)
    _, tok = rundir.load_tokenizer(run)
    if tok.vocab is None:
        raise CheckpointError(f"{run / rundir.TOKENIZER} holds no vocabulary")
    model = rundir.load_model(run, config, len(tok.vocab))
    return Run(run, config, tok, model.to(dev).eval(), dev)
