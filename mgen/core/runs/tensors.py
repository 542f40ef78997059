"""Tensors to and from a run's files: best weights (.safetensors) and the resume checkpoint
(torch.save, loaded with weights_only=True). Each function takes the file's path; which file
is which is the run artifact's business (`mgen.core.runs.artifact.RunDir`)."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from mgen.core.contracts.errors import CheckpointError, MgenError, one_line
from mgen.core.contracts.io import atomic_path


def save_weights(path: Path, model: torch.nn.Module) -> None:
    # Cloned: tied weights share one tensor, which safetensors refuses to store twice.
    state = {k: v.detach().cpu().clone().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        try:
            save_file(state, str(tmp))
        except Exception as e:  # noqa: BLE001 - SafetensorError on a full disk; tmp is removed
            raise MgenError(f"cannot write {path} (disk full?): {one_line(e)}") from None


def load_weights(path: Path, model: torch.nn.Module) -> None:
    try:
        state = load_file(str(path))
    except FileNotFoundError:
        raise CheckpointError(f"missing {path}") from None
    except Exception as e:  # noqa: BLE001 - safetensors raises its own error types on corrupt files
        raise CheckpointError(f"cannot read weights {path}: {one_line(e)}") from None
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise CheckpointError(
            f"weights in {path} do not fit this model/tokenizer pairing: {one_line(e)}"
        ) from None


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        try:
            torch.save(state, tmp)
        except RuntimeError as e:  # torch's writer reports a full disk as RuntimeError
            raise MgenError(f"cannot write {path} (disk full?): {one_line(e)}") from None


def load_checkpoint(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise CheckpointError(f"nothing to resume: {path} does not exist")
    try:
        # weights_only=True: a checkpoint can never run code when loaded.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about foreign pickle protocols
            ck = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        # torch's own text suggests weights_only=False, which is exactly what must not happen.
        why = [ln for ln in str(e).splitlines() if "GLOBAL" in ln or "Unsupported" in ln]
        raise CheckpointError(
            f"refusing to load {path}: it holds more than tensors and plain data (a file made "
            f"elsewhere, or crafted to run code when unpickled){': ' + why[0] if why else ''}"
        ) from None
    except Exception as e:  # noqa: BLE001 - torch raises many types for corrupt or unsafe files
        raise CheckpointError(f"cannot load {path}: truncated or corrupt ({one_line(e)})") from None
    if not isinstance(ck, dict):
        raise CheckpointError(f"{path} is not an mgen checkpoint (no state dictionary)")
    return ck
