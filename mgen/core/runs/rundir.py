"""A self-describing run directory.

config.json       every setting, plugin names and versions, package versions
tokenizer.json    tokenizer plugin name, version, settings and vocabulary
model.safetensors best-on-validation weights
checkpoint.pt     last state for --resume (tensors and numbers only: weights_only=True loads it)
metrics.csv       one row per evaluation
loss.png          the loss curve
"""

from __future__ import annotations

import contextlib
import os
import pickle
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from mgen.core.contracts import registry
from mgen.core.contracts.errors import CheckpointError, ConfigError, MgenError, one_line
from mgen.core.training.history import CURVE, METRICS
from mgen.core.contracts.io import atomic_path, read_json, write_json, write_text
from mgen.core.contracts.model import SequenceModel
from mgen.core.contracts.tokenizer import Tokenizer

__all__ = ["CONFIG", "CURVE", "METRICS", "TOKENIZER", "WEIGHTS", "CHECKPOINT"]

CONFIG, TOKENIZER, WEIGHTS, CHECKPOINT = (
    "config.json",
    "tokenizer.json",
    "model.safetensors",
    "checkpoint.pt",
)


def new_run_dir(root: Path, tokenizer: str, model: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{stamp}-{tokenizer}-{model}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def mark_latest(run: Path) -> None:
    """Point `<root>/latest` at `run` (a relative symlink, replaced atomically)."""
    link = run.parent / "latest"
    tmp = run.parent / f".latest.{os.getpid()}"
    try:
        if tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(run.name)
        os.replace(tmp, link)
    except OSError:  # filesystems without symlinks get a text file naming the run
        write_text(link.with_suffix(".txt"), run.name + "\n")


def resolve_run(path: Path | str) -> Path:
    """A run directory, or a shipped model's name (`mgen models`): its absolute path."""
    from mgen.core.runs.pretrained import resolve_run as resolve

    return resolve(path)


def save_tokenizer(run: Path, name: str, tok: Tokenizer) -> None:
    state = {
        "plugin": name,
        "plugin_version": registry.plugin_version("tokenizer", name),
        "distribution": registry.plugin_distribution("tokenizer", name),
        **tok.state_dict(),
    }
    write_json(run / TOKENIZER, state)


def load_tokenizer(run: Path) -> tuple[str, Tokenizer]:
    state = read_json(run / TOKENIZER)
    name = state.get("plugin")
    if not isinstance(name, str):
        raise CheckpointError(f"{run / TOKENIZER} names no tokenizer plugin")
    cls = registry.load("tokenizer", name)
    return name, cls.from_state_dict(state)


def save_weights(run: Path, model: SequenceModel) -> None:
    # Cloned: tied weights share one tensor, which safetensors refuses to store twice.
    state = {k: v.detach().cpu().clone().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(run / WEIGHTS) as tmp:
        try:
            save_file(state, str(tmp))
        except Exception as e:  # noqa: BLE001 - SafetensorError on a full disk; tmp is removed
            raise MgenError(f"cannot write {run / WEIGHTS} (disk full?): {one_line(e)}") from None


def load_weights(run: Path, model: SequenceModel) -> None:
    path = run / WEIGHTS
    try:
        state = load_file(str(path))
    except FileNotFoundError:
        raise CheckpointError(f"missing {path}") from None
    except Exception as e:  # noqa: BLE001 - safetensors raises its own error types on corrupt files
        raise CheckpointError(f"cannot read weights {path}: {one_line(e)}") from None
    _load_state(model, state, path)


def _load_state(model: torch.nn.Module, state: dict, path: Path) -> None:
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise CheckpointError(
            f"weights in {path} do not fit this model/tokenizer pairing: {one_line(e)}"
        ) from None


def save_checkpoint(run: Path, state: dict[str, Any]) -> None:
    with atomic_path(run / CHECKPOINT) as tmp:
        try:
            torch.save(state, tmp)
        except RuntimeError as e:  # torch's writer reports a full disk as RuntimeError
            raise MgenError(
                f"cannot write {run / CHECKPOINT} (disk full?): {one_line(e)}"
            ) from None


def load_checkpoint(run: Path) -> dict[str, Any]:
    path = run / CHECKPOINT
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


def check_resumable(run: Path) -> None:
    """Refuse to resume a run that has trained weights but no checkpoint (a shared or shipped
    run leaves `checkpoint.pt` out): starting it again from step 0 would overwrite them. Runs
    that mgen trains write a checkpoint before their first weights, so a run killed before its
    first checkpoint has no weights and may start again."""
    run = Path(run)
    if (run / WEIGHTS).exists() and not (run / CHECKPOINT).exists():
        raise ConfigError(
            f"{run} holds trained weights ({WEIGHTS}) but no {CHECKPOINT} to continue from; "
            f"--resume would start it again and overwrite them: fine-tune it into a new run "
            f"instead (mgen train --init {run} --out NEW)"
        )


def make_run_dir(run: Path) -> None:
    """Create the run directory, or say plainly why it cannot be."""
    try:
        Path(run).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise MgenError(f"cannot create run directory {run}: {e.strerror or e}") from None


def remove_stale_temps(run: Path) -> None:
    """Delete temporary files a killed run left behind (atomic writes never finished)."""
    for tmp in Path(run).glob(".*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()


def read_config(run: Path) -> dict[str, Any]:
    return read_json(Path(run) / CONFIG)


def load_model(run: Path, config: dict[str, Any], vocab_size: int) -> SequenceModel:
    """The run's model, built from config.json and given its best weights (on the CPU)."""
    from mgen.core.contracts.model import build_model

    try:
        model = build_model(config["model"], config["model_config"])
    except (KeyError, TypeError) as e:
        raise CheckpointError(f"{run / CONFIG} lacks {e}") from None
    if config["model_config"].get("vocab_size") != vocab_size:
        raise CheckpointError(f"{run}: model vocabulary size does not match tokenizer.json")
    load_weights(run, model)
    return model
