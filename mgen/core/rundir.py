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
import csv
import io
import json
import os
import pickle
import platform
import warnings
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from mgen.core import registry
from mgen.core.errors import CheckpointError, ConfigError, MgenError
from mgen.core.io import atomic_path, write_json, write_text
from mgen.core.model import SequenceModel
from mgen.core.tokenizer import Tokenizer

CONFIG, TOKENIZER, WEIGHTS, CHECKPOINT, METRICS, CURVE = (
    "config.json",
    "tokenizer.json",
    "model.safetensors",
    "checkpoint.pt",
    "metrics.csv",
    "loss.png",
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


def resolve_run(path: Path) -> Path:
    path = Path(path)
    if not path.exists() and path.name == "latest" and path.with_suffix(".txt").exists():
        path = path.parent / path.with_suffix(".txt").read_text().strip()
    if not (path / CONFIG).is_file():
        hint = " (train one with `mgen train`, or pass --run DIR)" if path.name == "latest" else ""
        raise CheckpointError(f"no run directory at {path}{hint}")
    return path.resolve()


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("mgen", "torch", "numpy", "music21", "pretty_midi", "miditoolkit"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "?"
    return out


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


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"missing {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"cannot read {path}: {e}") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} is not a JSON object")
    return data


def build_model(name: str, options: dict[str, Any]) -> SequenceModel:
    cls = registry.load("model", name)
    config = cls.Config.from_dict(options)
    try:
        return cls(config)
    except MgenError:
        raise
    except Exception as e:  # noqa: BLE001 - torch layers reject impossible sizes in many ways
        raise ConfigError(
            f"model {name!r} cannot be built with these settings: {one_line(e)}"
        ) from None


def save_weights(run: Path, model: SequenceModel) -> None:
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
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
        raise CheckpointError(f"cannot read weights {path}: {e}") from None
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


def one_line(e: BaseException, limit: int = 300) -> str:
    """An exception as one short line (library messages often span several)."""
    text = " ".join(ln.strip() for ln in str(e).splitlines() if ln.strip())
    return (text[:limit] + "...") if len(text) > limit else text or type(e).__name__


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


def load_run(path: Path, device: torch.device | str = "cpu"):
    """(run dir, config dict, tokenizer, model) ready for sampling or evaluation."""
    run = resolve_run(path)
    config = read_json(run / CONFIG)
    _, tok = load_tokenizer(run)
    try:
        model = build_model(config["model"], config["model_config"])
    except KeyError as e:
        raise CheckpointError(f"{run / CONFIG} lacks {e}") from None
    if config["model_config"].get("vocab_size") != len(tok.vocab or []):
        raise CheckpointError(f"{run}: model vocabulary size does not match tokenizer.json")
    load_weights(run, model)
    return run, config, tok, model.to(device).eval()


METRIC_FIELDS = [
    "epoch",
    "step",
    "tokens",
    "train_loss",
    "train_bits",
    "val_loss",
    "val_bits",
    "val_acc",
    "lr",
    "elapsed_s",
    "tokens_per_s",
]


def write_metrics(run: Path, rows: list[dict[str, Any]]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=METRIC_FIELDS, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    write_text(run / METRICS, buf.getvalue())


def read_metrics(run: Path) -> list[dict[str, Any]]:
    path = run / METRICS
    if not path.exists():
        return []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return [{k: _num(v) for k, v in row.items()} for row in csv.DictReader(f)]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise CheckpointError(f"cannot read {path}: {one_line(e)}") from None


def _num(v: str | None) -> Any:
    if not isinstance(v, str):  # a short or long row of a hand-edited file: None or a list
        return v
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v


def plot_loss(run: Path, rows: list[dict[str, Any]], title: str) -> None:
    if not rows:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.plot(steps, [r["train_loss"] for r in rows], marker="o", label="train")
    val = [(r["step"], r["val_loss"]) for r in rows if isinstance(r.get("val_loss"), float)]
    if val:
        ax.plot(*zip(*val, strict=True), marker="o", label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    try:
        with atomic_path(run / CURVE) as tmp:
            fig.savefig(tmp, format="png")
    except MgenError:
        raise
    finally:
        plt.close(fig)
