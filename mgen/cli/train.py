"""`mgen train`: fit a model plugin on a tokenizer plugin's corpus and write a run directory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from mgen import api
from mgen.api import TIMEOUT_ENV
from mgen.cli.common import parse_duration, parse_options
from mgen.core.contracts.errors import ConfigError


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
            help="Files, folders or datasets to train on (repeatable); default: the tokenizer's "
            "dataset ({recipe.dataset}).",
        ),
    ] = None,
    epochs: Annotated[
        int | None,
        typer.Option(
            help="Passes over the training data. With none of --epochs, --max-steps and "
            "--time-budget, training runs for the tokenizer's default time "
            "({recipe.time_budget})."
        ),
    ] = None,
    max_steps: Annotated[
        int | None, typer.Option(help="Stop after this many optimizer steps.")
    ] = None,
    time_budget: Annotated[
        str | None,
        typer.Option(
            help="Stop after this much training time, e.g. 90s, 10m, 1h (default, with neither "
            "--epochs nor --max-steps: {recipe.time_budget})."
        ),
    ] = None,
    clock: Annotated[
        str,
        typer.Option(
            help="What --time-budget counts: wall (seconds on the clock) or cpu (CPU seconds of "
            "the training process, all threads: fair comparisons on a busy machine)."
        ),
    ] = "wall",
    batch_size: Annotated[int, typer.Option(help="Windows per batch.")] = 64,
    seq_len: Annotated[
        int,
        typer.Option(
            help="Tokens per training window (truncated backprop length); with lanes the "
            "carried state brings the context from earlier windows. 0: the tokenizer's default "
            "({recipe.seq_len})."
        ),
    ] = 0,
    lr: Annotated[float, typer.Option(help="Adam learning rate.")] = 2e-3,
    val_fraction: Annotated[
        float,
        typer.Option(
            help="Share of pieces held out for validation, split as the tokenizer says "
            "({recipe.split_by}): whole files keep a score's voices on one side."
        ),
    ] = 0.1,
    val_data: Annotated[
        list[Path] | None,
        typer.Option(
            help="Validate on these files, folders or datasets instead of a random split "
            "(repeatable)."
        ),
    ] = None,
    eval_every: Annotated[
        int | None, typer.Option(help="Validate every N steps (default: at each epoch's end).")
    ] = None,
    batching: Annotated[
        str,
        typer.Option(
            help="lanes: the corpus as contiguous lanes, the model's state carried from window "
            "to window (truncated backprop through time), across pieces; piece-lanes: lanes in "
            "which every piece opens a window from the empty state; pieces: whole pieces "
            "grouped by length; windows: shuffled windows, each from an empty state (mgen 0.1); "
            "auto: the tokenizer's measured default ({recipe.batching}). "
            "Models that cannot carry state always use windows.",
        ),
    ] = "auto",
    lr_schedule: Annotated[
        str,
        typer.Option(help="cosine (warm-up, then decay to the end of the budget) or constant."),
    ] = "constant",
    warmup_steps: Annotated[int, typer.Option(help="Steps of linear learning-rate warm-up.")] = 0,
    weight_decay: Annotated[float, typer.Option(help="AdamW weight decay (0: none).")] = 0.0,
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
    controls: Annotated[
        str | None,
        typer.Option(
            help="Attribute controls: the attributes that open each training piece as tokens, "
            'e.g. "key,meter,tempo" (of key, meter, tempo, length, collection) or "all", so '
            "`mgen sample --key ... --meter ...` may ask for them. See docs/control.md.",
        ),
    ] = None,
    control_dropout: Annotated[
        float,
        typer.Option(help="Share of training pieces each control is left out of (0 <= p < 1)."),
    ] = 0.4,
    control_every: Annotated[
        int,
        typer.Option(
            help="Restate a piece's kept controls every N of its tokens (0: only at its start), "
            "so training windows after the first still see them and sampling restates what "
            "was asked. See docs/control.md.",
        ),
    ] = 0,
    infill: Annotated[
        bool,
        typer.Option(
            "--infill",
            help="Train for infilling (`mgen sample --infill FILE --bars A-B`): a share of the "
            "pieces read suffix, prefix, then middle. See docs/control.md.",
        ),
    ] = False,
    infill_share: Annotated[
        float,
        typer.Option(help="With --infill: the share of training pieces rewritten (0 < p <= 1)."),
    ] = 0.5,
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
    init: Annotated[
        str | None,
        typer.Option(
            help="Fine-tune: start from this run directory, shipped model (`mgen models`) or "
            "hf:OWNER/NAME (a run on the Hugging Face Hub), "
            "with its tokenizer, vocabulary (tokens it lacks read as <unk>) and weights; "
            "writes a new run.",
        ),
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
            envvar=TIMEOUT_ENV,
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
    several = nproc is not None or api.launched()
    timeout = parse_duration(dist_timeout) if several else api.DEFAULT_TIMEOUT
    settings = {
        "tokenizer": tokenizer, "model": model, "data": [str(d) for d in data or []],
        **length, "clock": clock, "batch_size": batch_size, "seq_len": seq_len, "lr": lr,
        "val_fraction": val_fraction, "val_data": [str(d) for d in val_data or []],
        "eval_every": eval_every, "batching": batching, "lr_schedule": lr_schedule,
        "warmup_steps": warmup_steps, "weight_decay": weight_decay,
        "seed": seed, "device": device, "precision": precision,
        "checkpoint_every": checkpoint_every, "workers": workers, "init": init,
        "controls": [c.strip() for c in (controls or "").split(",") if c.strip()],
        "control_dropout": control_dropout, "control_every": control_every, "infill_share": infill_share if infill else 0.0,
        "tokenizer_options": parse_options(tokenizer_option, "--tokenizer-option"),
        "model_options": _model_options(model_option, embed_dim, hidden_size, layers, dropout),
    }  # fmt: skip
    api.check_settings(settings)  # every value is checked, with --resume too
    if nproc is not None:
        raise typer.Exit(_relaunch(ctx, nproc, batch_size))
    log = lambda msg: typer.echo(msg, err=True)  # noqa: E731 - a one-line sink
    given = _typed(ctx, settings) if resume else settings  # resuming: what was typed only
    progress = not quiet and sys.stderr.isatty()
    result = api.fit(given, out, resume=resume, log=log, progress=progress, dist_timeout=timeout)
    if api.is_lead():
        typer.echo(str(result.path))


#: CLI options that set another key of the settings than their own name.
_SETTING_OF = {"data": "data", "val_data": "val_data", "model_option": "model_options",
               "embed_dim": "model_options", "hidden_size": "model_options",
               "layers": "model_options", "dropout": "model_options",
               "tokenizer_option": "tokenizer_options", "infill": "infill_share"}  # fmt: skip


def _typed(ctx: typer.Context, settings: dict) -> dict:
    """The settings the user gave on the command line (for --resume to check against the
    run's own): defaults left out."""
    keys = set()
    for name in ctx.params:
        source = ctx.get_parameter_source(name)
        if source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT"):
            keys.add(_SETTING_OF.get(name, name))
    return {k: settings[k] for k in sorted(keys) if k in settings}


def _model_options(
    pairs: list[str] | None,
    embed_dim: int | None,
    hidden_size: int | None,
    layers: int | None,
    dropout: float | None,
) -> dict:
    """-M KEY=VALUE pairs plus the common size flags (which win)."""
    options = parse_options(pairs, "--model-option")
    sizes = {"--embed-dim": embed_dim, "--hidden-size": hidden_size, "--layers": layers}
    for flag, size in sizes.items():
        if size is not None and size < 1:
            raise ConfigError(f"{flag} must be >= 1, got {size}")
    named = {"embed_dim": embed_dim, "hidden_size": hidden_size, "num_layers": layers,
             "dropout": dropout}  # fmt: skip
    options.update({k: v for k, v in named.items() if v is not None})
    return options


def _relaunch(ctx: typer.Context, nproc: int, batch_size: int) -> int:
    """`--nproc N`: this same command on N local processes under torchrun; its exit code."""
    if nproc < 1:
        raise ConfigError(f"--nproc must be >= 1, got {nproc}")
    if api.launched():
        raise ConfigError("--nproc starts torchrun itself; leave it out under torchrun")
    if batch_size % nproc:
        raise ConfigError(
            f"--batch-size {batch_size} is the global batch and must divide evenly over "
            f"--nproc {nproc} processes"
        )
    args = _command_line(ctx, drop={"nproc"})
    typer.echo(f"launching {nproc} processes: torchrun --standalone ... {' '.join(args)}", err=True)
    return api.relaunch(nproc, args)


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
