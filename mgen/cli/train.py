"""`mgen train`: fit a model plugin on a tokenizer plugin's corpus and write a run directory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from mgen.cli.common import parse_duration, parse_options
from mgen.core import rundir
from mgen.core.errors import ConfigError
from mgen.core.train import TrainConfig, Trainer, set_threads

_LENGTH = ("epochs", "max_steps", "time_budget")


def train(
    tokenizer: Annotated[
        str, typer.Option("--tokenizer", "-t", help="Tokenizer plugin (see `mgen plugins`).")
    ] = "abc-char",
    model: Annotated[
        str, typer.Option("--model", "-m", help="Model plugin: rnn, lstm, lstm2, gru, ...")
    ] = "lstm2",
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data",
            "-d",
            help="Files or folders to train on (repeatable); default: the tokenizer's embedded dataset.",
        ),
    ] = None,
    epochs: Annotated[
        int | None,
        typer.Option(
            help="Passes over the training data (default: the tokenizer's, unless --max-steps/--time-budget)."
        ),
    ] = None,
    max_steps: Annotated[
        int | None, typer.Option(help="Stop after this many optimizer steps.")
    ] = None,
    time_budget: Annotated[
        str | None, typer.Option(help="Stop after this much training time, e.g. 90s, 10m, 1h.")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Windows per batch.")] = 64,
    seq_len: Annotated[
        int, typer.Option(help="Tokens per training window (truncated backprop length).")
    ] = 128,
    lr: Annotated[float, typer.Option(help="Adam learning rate.")] = 2e-3,
    val_fraction: Annotated[
        float, typer.Option(help="Share of pieces held out for validation.")
    ] = 0.1,
    embed_dim: Annotated[
        int | None, typer.Option(help="Embedding size (model default if unset).")
    ] = None,
    hidden_size: Annotated[int | None, typer.Option(help="Recurrent hidden size.")] = None,
    layers: Annotated[int | None, typer.Option(help="Stacked recurrent layers.")] = None,
    dropout: Annotated[
        float | None, typer.Option(help="Dropout between layers and before the output.")
    ] = None,
    model_option: Annotated[
        list[str] | None,
        typer.Option("--model-option", "-M", help="Other model setting KEY=VALUE (repeatable)."),
    ] = None,
    tokenizer_option: Annotated[
        list[str] | None,
        typer.Option(
            "--tokenizer-option",
            "-T",
            help="Tokenizer setting KEY=VALUE, e.g. min_count=50 (repeatable).",
        ),
    ] = None,
    device: Annotated[
        str, typer.Option(help="auto (cuda, then mps, then cpu), cpu, cuda or mps.")
    ] = "auto",
    precision: Annotated[
        str, typer.Option(help="auto (mixed precision on GPU), fp32, bf16 or fp16.")
    ] = "auto",
    seed: Annotated[
        int, typer.Option(help="Seed for the split, batch order and initial weights.")
    ] = 0,
    checkpoint_every: Annotated[
        int, typer.Option(help="Save a resumable checkpoint every N steps.")
    ] = 200,
    workers: Annotated[int, typer.Option(help="Parsing processes (0: every core).")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(help="Run directory (default: runs/<time>-<tokenizer>-<model>)."),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue the run in --out (default runs/latest) from its last checkpoint.",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Train a model on a corpus and write a self-describing run directory."""
    length = {
        "epochs": epochs,
        "max_steps": max_steps,
        "time_budget": parse_duration(time_budget) if time_budget else None,
    }
    if resume:
        run = rundir.resolve_run(out or Path("runs/latest"))
        saved = rundir.read_json(run / rundir.CONFIG)["train"]
        if any(v is not None for v in length.values()):
            saved.update(length)  # the user may extend or shorten a resumed run
        cfg = TrainConfig.from_dict(saved)
    else:
        model_options = parse_options(model_option, "--model-option")
        for key, value in (
            ("embed_dim", embed_dim),
            ("hidden_size", hidden_size),
            ("num_layers", layers),
            ("dropout", dropout),
        ):
            if value is not None:
                model_options[key] = value
        cfg = TrainConfig.from_dict(
            {
                "tokenizer": tokenizer,
                "model": model,
                "data": [str(d) for d in data or []],
                **length,
                "batch_size": batch_size,
                "seq_len": seq_len,
                "lr": lr,
                "val_fraction": val_fraction,
                "seed": seed,
                "device": device,
                "precision": precision,
                "checkpoint_every": checkpoint_every,
                "workers": workers,
                "tokenizer_options": parse_options(tokenizer_option, "--tokenizer-option"),
                "model_options": model_options,
            }
        )
        run = out or rundir.new_run_dir(Path("runs"), tokenizer, model)
        if (run / rundir.CONFIG).exists():
            raise ConfigError(f"{run} already holds a run; pass --resume or another --out")
    set_threads()
    log = lambda msg: typer.echo(msg, err=True)  # noqa: E731 - a one-line sink
    trainer = Trainer(cfg, run, log=log, progress=not quiet and sys.stderr.isatty(), resume=resume)
    trainer.run.mkdir(parents=True, exist_ok=True)
    rundir.mark_latest(trainer.run)
    log(
        f"training {cfg.model} ({trainer.model.num_parameters():,} parameters) on "
        f"{trainer.device} [{trainer.precision}], run directory {trainer.run}"
    )
    trainer.fit()
    typer.echo(str(trainer.run))
