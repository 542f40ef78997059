"""The run-directory functions of mgen 0.2, kept for code written against them: each is one
call of the run artifact, `mgen.core.runs.artifact.RunDir`, which names and owns a run's files.
New code uses `RunDir` itself."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mgen.core.contracts.io import write_json
from mgen.core.runs.artifact import (
    CHECKPOINT,
    CONFIG,
    CURVE,
    METRICS,
    TOKENIZER,
    WEIGHTS,
    RunDir,
)

if TYPE_CHECKING:
    from mgen.core.contracts.model import SequenceModel
    from mgen.core.contracts.tokenizer import Tokenizer

__all__ = ["CONFIG", "CURVE", "METRICS", "TOKENIZER", "WEIGHTS", "CHECKPOINT", "RunDir",
           "write_json"]  # fmt: skip


def new_run_dir(root: Path, tokenizer: str, model: str) -> Path:
    return RunDir.new(root, tokenizer, model).path


def mark_latest(run: Path) -> None:
    RunDir(run).mark_latest()


def resolve_run(path: Path | str) -> Path:
    """A run directory, or a shipped model's name (`mgen models`): its absolute path."""
    return RunDir.resolve(path).path


def save_tokenizer(run: Path, name: str, tok: Tokenizer) -> None:
    RunDir(run).save_tokenizer(name, tok)


def load_tokenizer(run: Path) -> tuple[str, Tokenizer]:
    rd = RunDir(run)
    return rd.tokenizer_plugin().name, rd.load_tokenizer()


def save_weights(run: Path, model: SequenceModel) -> None:
    RunDir(run).save_weights(model)


def load_weights(run: Path, model: SequenceModel) -> None:
    RunDir(run).load_weights(model)


def save_checkpoint(run: Path, state: dict[str, Any]) -> None:
    RunDir(run).save_checkpoint(state)


def load_checkpoint(run: Path) -> dict[str, Any]:
    return RunDir(run).load_checkpoint()


def check_resumable(run: Path) -> None:
    RunDir(run).check_resumable()


def make_run_dir(run: Path) -> None:
    RunDir(run).create()


def remove_stale_temps(run: Path) -> None:
    RunDir(run).remove_stale_temps()


def read_config(run: Path) -> dict[str, Any]:
    return RunDir(run).read_config()


def load_model(run: Path, config: dict[str, Any], vocab_size: int) -> SequenceModel:
    return RunDir(run).load_model(vocab_size, config)
