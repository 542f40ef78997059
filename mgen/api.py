"""mgen from Python: the same operations as the CLI, which is built on these.

import mgen
run = mgen.train(tokenizer="abc-char", model="lstm2", max_steps=200)   # or mgen.load_run()
pieces = run.sample(n=300, num_samples=4, decoder="top-p", top_p=0.9, seed=1)
written = run.write(pieces)                       # .abc and .mid files
print(mgen.judge(written.paths, reference=["folk-abc"])["formats"])
print(mgen.score(run, ["held-out/"])["loss_nats"])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mgen.core.runs.run import Run, load_run
from mgen.core.training.trainer import TrainConfig

__all__ = ["Run", "TrainConfig", "judge", "load_run", "render", "score", "train"]

Log = Callable[[str], None]


def _quiet(msg: str) -> None:
    del msg


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
    `resume=True` continues the run in `out` (default runs/latest)."""
    from mgen.core.runs import rundir
    from mgen.core.training.pipeline import new_run_path, resume_config, train_run

    if resume:
        run = rundir.resolve_run(Path(out or "runs/latest"))
        cfg = resume_config(run, settings)
    else:
        given = config.to_dict() if isinstance(config, TrainConfig) else dict(config or {})
        cfg = TrainConfig.from_dict({**given, **settings})
        run = new_run_path(cfg, Path(out) if out else None)
    path = train_run(cfg, run, resume=resume, log=log, progress=progress)
    return load_run(path)


def score(
    run: Run | Path | str, files: Sequence[str | Path], device: str = "cpu", batch_size: int = 64
) -> dict[str, Any]:
    """A run's loss on files it never saw: nats and bits per token, accuracy, <unk> counts."""
    from mgen.evaluate.heldout import heldout_loss

    return heldout_loss(run, [str(f) for f in files], device, batch_size, _quiet)


def judge(
    files: Sequence[str | Path],
    reference: Sequence[str] | None = None,
    reference_limit: int | None = 200,
) -> dict[str, Any]:
    """`mgen eval` on generated files: validity, statistics against `reference` (files,
    folders or dataset names), repetition and copies."""
    from mgen.evaluate.report import evaluate_files

    return evaluate_files([Path(f) for f in files], reference, reference_limit, _quiet)


def render(
    files: Sequence[str | Path],
    *,
    png: bool = False,
    wav: bool = False,
    musicxml: bool = False,
    out: Path | str | None = None,
) -> list[Path]:
    """Piano rolls, audio and/or MusicXML of music files; the written paths."""
    from mgen.evaluate.render import render_files

    return render_files(
        [Path(f) for f in files], png=png, wav=wav, musicxml=musicxml,
        out=Path(out) if out else None,
    )  # fmt: skip
