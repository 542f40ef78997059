"""Training: `mgen train` and `mgen.train` both come here, so a run is continued or started by
one rule (`choose_run`), and several processes (torchrun) are told apart in one place."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mgen.api.results import TrainResult
from mgen.core.training import launch
from mgen.core.training.launch import DEFAULT_TIMEOUT, TIMEOUT_ENV
from mgen.core.training.train_config import TrainConfig

if TYPE_CHECKING:
    from mgen.core.runs.run import Run

__all__ = ["DEFAULT_TIMEOUT", "TIMEOUT_ENV", "check_settings", "choose_run", "fit", "train"]

Log = Callable[[str], None]


def _quiet(msg: str) -> None:
    del msg


def check_settings(settings: Mapping[str, Any]) -> TrainConfig:
    """Every training setting checked (`mgen train` checks them all, with --resume too)."""
    return TrainConfig.from_dict(dict(settings))


def choose_run(
    settings: Mapping[str, Any], out: Path | str | None = None, resume: bool = False
) -> tuple[TrainConfig, Path]:
    """The one choice between continuing a run and starting one: (settings, run directory).
    Resuming: the run in `out` (default runs/latest) with its own settings, which `settings`
    (only what the caller gave) may extend but not change. Starting: `settings` in full, and
    `out` or a fresh runs/<time>-<tokenizer>-<model>, never a folder that holds a run."""
    from mgen.core.runs import rundir
    from mgen.core.training.pipeline import new_run_path, resume_config

    if resume:
        run = rundir.resolve_run(Path(out or "runs/latest"))
        return resume_config(run, dict(settings)), run
    cfg = check_settings(settings)
    return cfg, new_run_path(cfg, Path(out) if out else None)


def fit(
    settings: Mapping[str, Any],
    out: Path | str | None = None,
    *,
    resume: bool = False,
    log: Log = _quiet,
    progress: bool = False,
    dist_timeout: float = DEFAULT_TIMEOUT,
) -> TrainResult:
    """Train (see `choose_run` for what `settings`, `out` and `resume` mean) and say where
    the run went; the model is not loaded (`TrainResult.load`)."""
    from mgen.core.training.pipeline import train_run

    cfg, run = choose_run(settings, out, resume)
    path = train_run(cfg, run, resume=resume, log=log, progress=progress,
                     dist_timeout=dist_timeout)  # fmt: skip
    return TrainResult(Path(path), cfg, resume)


def train(
    config: TrainConfig | dict[str, Any] | None = None,
    out: Path | str | None = None,
    *,
    resume: bool = False,
    log: Log = _quiet,
    progress: bool = False,
    **settings: Any,
) -> Run:
    """Train and return the loaded run. Settings are TrainConfig's fields, as a TrainConfig,
    a dict or keywords (`tokenizer="kern", model="lstm2", max_steps=500, data=["songs/"]`).
    `resume=True` continues the run in `out` (default runs/latest); the keywords may then
    extend its length or move it (`max_steps`, `device`, ...)."""
    if not resume:
        given = config.to_dict() if isinstance(config, TrainConfig) else dict(config or {})
        settings = {**given, **settings}
    return fit(settings, out, resume=resume, log=log, progress=progress).load()


# -- several processes -----------------------------------------------------------------------


def launched() -> bool:
    """True inside a torchrun worker of a job with more than one process."""
    return launch.launched()


def is_lead() -> bool:
    """True in the one process that speaks for a job (the only one, or rank 0)."""
    return not launch.launched() or launch.env_rank() == 0


def relaunch(nproc: int, args: Sequence[str]) -> int:
    """Run `mgen ARGS` on `nproc` local processes under torchrun; its exit code."""
    return launch.launch(nproc, args)
