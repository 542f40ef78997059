"""`mgen train`: fit a model plugin on a tokenizer plugin's corpus and write a run directory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from mgen.cli.common import parse_duration, parse_options
from mgen.core import distributed, rundir
from mgen.core.errors import ConfigError
from mgen.core.train import TrainConfig, Trainer, set_threads


def train(
    ctx: typer.Context,
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
        str,
        typer.Option(
            help="auto (bf16/fp16 mixed precision on GPU and on CPUs with native bf16, else fp32), fp32, bf16 or fp16."
        ),
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
    nproc: Annotated[
        int | None,
        typer.Option(
            help="Train on N local processes (one per GPU, or N on the CPU) with "
            "DistributedDataParallel: reruns this command under torchrun. See docs/distributed.md."
        ),
    ] = None,
    dist_timeout: Annotated[
        str,
        typer.Option(
            envvar=distributed.TIMEOUT_ENV,
            help="Several processes: how long one waits for a silent peer before the job fails, "
            "e.g. 90s, 10m.",
        ),
    ] = "10m",
) -> None:
    """Train a model on a corpus and write a self-describing run directory."""
    length = {
        "epochs": epochs,
        "max_steps": max_steps,
        "time_budget": parse_duration(time_budget) if time_budget else None,
    }
    if resume:
        run = rundir.resolve_run(out or Path("runs/latest"))
        saved = rundir.read_json(run / rundir.CONFIG).get("train")
        if not isinstance(saved, dict):
            raise rundir.CheckpointError(f"{run / rundir.CONFIG} holds no training settings")
        if any(v is not None for v in length.values()):
            saved.update(length)  # the user may extend or shorten a resumed run
        cfg = TrainConfig.from_dict(saved)
    else:
        model_options = parse_options(model_option, "--model-option")
        for flag, size in (
            ("--embed-dim", embed_dim),
            ("--hidden-size", hidden_size),
            ("--layers", layers),
        ):
            if size is not None and size < 1:
                raise ConfigError(f"{flag} must be >= 1, got {size}")
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
    several = nproc is not None or distributed.launched()
    timeout = parse_duration(dist_timeout) if several else distributed.DEFAULT_TIMEOUT
    if nproc is not None:
        raise typer.Exit(_relaunch(ctx, nproc, cfg.batch_size))
    set_threads()
    log = lambda msg: typer.echo(msg, err=True)  # noqa: E731 - a one-line sink
    progress = not quiet and sys.stderr.isatty()
    with distributed.guard(timeout):
        trainer = Trainer(cfg, run, log=log, progress=progress, resume=resume, dist_timeout=timeout)
        if trainer.dist.is_main:
            rundir.make_run_dir(trainer.run)
            rundir.mark_latest(trainer.run)
        trainer.log(
            f"training {cfg.model} ({trainer.model.num_parameters():,} parameters) on "
            f"{trainer.device}{trainer.dist.describe()} [{trainer.precision}], "
            f"run directory {trainer.run}"
        )
        trainer.fit()
    if trainer.dist.is_main:
        typer.echo(str(trainer.run))


def _relaunch(ctx: typer.Context, nproc: int, batch_size: int) -> int:
    """`--nproc N`: this same command on N local processes under torchrun; its exit code."""
    if nproc < 1:
        raise ConfigError(f"--nproc must be >= 1, got {nproc}")
    if distributed.launched():
        raise ConfigError("--nproc starts torchrun itself; leave it out under torchrun")
    if batch_size % nproc:
        raise ConfigError(
            f"--batch-size {batch_size} is the global batch and must divide evenly over "
            f"--nproc {nproc} processes"
        )
    args = _command_line(ctx, drop={"nproc"})
    typer.echo(f"launching {nproc} processes: torchrun --standalone ... {' '.join(args)}", err=True)
    return distributed.launch(nproc, args)


def _command_line(ctx: typer.Context, drop: set[str]) -> list[str]:
    """The options the user typed, rebuilt from their parsed values (defaults left out)."""
    args = [ctx.info_name or "train"]
    for param in ctx.command.params:
        name = param.name or ""
        source = ctx.get_parameter_source(name)
        if name in drop or source is None or source.name != "COMMANDLINE":
            continue
        value, flag = ctx.params[name], param.opts[0]
        if getattr(param, "is_flag", False):
            args += [flag] if value else param.secondary_opts[:1]
        elif param.multiple:
            for item in value:
                args += [flag, str(item)]
        else:
            args += [flag, str(value)]
    return args
