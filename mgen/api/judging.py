"""Judging and rendering music files, and a run's held-out loss: `mgen eval`, `mgen sample
--eval`, `mgen render` and the web server's judge all come here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mgen.api.results import Judgement, Loss

if TYPE_CHECKING:
    from mgen.core.contracts.tokenizer import Tokenizer
    from mgen.core.runs.run import Run

__all__ = ["judge", "judge_against", "render", "render_audio", "score"]

Log = Callable[[str], None]
DEFAULT_REFERENCE_LIMIT = 200  # mgen.evaluate.report's (a test checks they agree)


def _quiet(msg: str) -> None:
    del msg


def judge(
    files: Sequence[str | Path],
    reference: Sequence[str] | None = None,
    reference_limit: int | None = DEFAULT_REFERENCE_LIMIT,
    *,
    run: Run | Path | str | None = None,
    log: Log = _quiet,
) -> Judgement:
    """`mgen eval` on music files: validity, statistics against `reference` (files, folders
    or dataset names), repetition and copies. With `run` (a loaded Run, a run directory or a
    shipped model's name): judged against what it trained on, copies against its whole
    training split, statistics against `reference` or else pieces of its validation split."""
    from mgen.evaluate import report

    paths = [Path(f) for f in files]
    if run is None:
        return Judgement(report.evaluate_files(paths, reference, reference_limit, log))
    source = report.run_context(run) if isinstance(run, (str, Path)) else run
    return Judgement(report.evaluate_run_samples(paths, source, log, reference, reference_limit))


def judge_against(
    files: Sequence[str | Path], reference: Any, index: Any, tokenizer: Tokenizer | None
) -> Judgement:
    """Files judged against a reference and copy index built already (the web server keeps
    a model's on disk: `mgen.web.judgecache`)."""
    from mgen.evaluate.report import Judge, evaluate

    how = Judge(reference, index, tokenizer)
    return Judgement(evaluate([Path(f) for f in files], reference, _quiet, how))


def score(
    run: Run | Path | str,
    files: Sequence[str | Path],
    device: str = "cpu",
    batch_size: int = 64,
    *,
    log: Log = _quiet,
) -> Loss:
    """A run's loss on files it never saw: nats and bits per token, accuracy, <unk> counts."""
    from mgen.evaluate.heldout import heldout_loss

    return Loss(heldout_loss(run, [str(f) for f in files], device, batch_size, log))


def render(
    files: Sequence[str | Path],
    *,
    png: bool = False,
    wav: bool = False,
    musicxml: bool = False,
    out: Path | str | None = None,
    soundfont: Path | str | None = None,
) -> list[Path]:
    """Piano rolls, audio and/or MusicXML of music files; the written paths."""
    from mgen.evaluate.render import render_files

    return render_files(
        [Path(f) for f in files], png=png, wav=wav, musicxml=musicxml,
        out=Path(out) if out else None, soundfont=Path(soundfont) if soundfont else None,
    )  # fmt: skip


def render_audio(paths: Sequence[str | Path]) -> list[Path]:
    """Audio of sampled pieces: one WAV per piece, from its MIDI file where it has one."""
    from mgen.evaluate.render import render_wavs

    return render_wavs([Path(p) for p in paths])
