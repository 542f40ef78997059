"""A whole training run: join the other processes (if any), prepare the data, build or resume
the trainer, fit. This is what `mgen train` and `mgen.train()` call."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mgen.core.contracts.config import plain
from mgen.core.contracts.errors import CheckpointError, ConfigError
from mgen.core.contracts.tokenizer import Tokenizer
from mgen.core.contracts.vocabulary import require_vocab
from mgen.core.data.prepare import TrainData, build_tokenizer, prepare_data
from mgen.core.runs import finetune
from mgen.core.runs.artifact import RunDir
from mgen.core.training import defaults, distributed, small
from mgen.core.training.device import resolve_device, resolve_precision
from mgen.core.training.signals import set_threads
from mgen.core.training.trainer import TrainConfig, Trainer

Log = Callable[[str], None]


#: What `--resume` may change: how long to train on, and where and how fast (not what).
RESUME_OVERRIDES = ("epochs", "max_steps", "time_budget", "device", "workers", "checkpoint_every")


def resume_config(run: Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """The settings a run was started with. `overrides` (the settings the user gave) may
    extend its length (`epochs`, `max_steps`, `time_budget`) or move it (`device`, `workers`,
    `checkpoint_every`); any other setting that differs from the run's is refused, never
    silently ignored, and every value given is validated."""
    files = RunDir(run)
    if name := files.shipped_name():
        raise ConfigError(f"{run} is the read-only model {name}; fine-tune it with --init")
    files.check_resumable()  # before any data is read: trained weights are never restarted
    saved = files.read_config().get("train")
    if not isinstance(saved, dict):
        raise CheckpointError(f"{files.config_file} holds no training settings")
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    if given.pop("init", None):
        raise ConfigError("--init starts a new run; --resume continues one: pass one of them")
    TrainConfig.from_dict({**saved, **given})  # each value given is checked (--lr -1 ...)
    _refuse_changes(run, saved, given)
    length = {k: given[k] for k in ("epochs", "max_steps", "time_budget") if k in given}
    if length:
        saved.update({"epochs": None, "max_steps": None, "time_budget": None, **length})
    saved.update({k: given[k] for k in RESUME_OVERRIDES if k in given and k not in length})
    return TrainConfig.from_dict(saved)


def _resolved(
    run: Path, saved: dict[str, Any], given: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`saved` and `given` with what they leave to the recipe (`--seq-len 0`, `--batching
    auto`) resolved as the run resolves it, where `given` names such a setting: the command
    that started a run, repeated with --resume, continues it (a run saved before resolving,
    with "auto" in its config.json, too)."""
    keys = [k for k in defaults.FROM_RECIPE if k in given]
    if not keys:
        return saved, given
    from mgen.core.contracts import registry

    tok = RunDir(run).load_tokenizer()
    carries = registry.load("model", str(saved.get("model"))).carries_state

    def filled(settings: dict[str, Any]) -> dict[str, Any]:
        done = defaults.resolve(TrainConfig.from_dict(settings), tok, carries_state=carries)
        return {**settings, **{k: getattr(done, k) for k in keys}}

    return filled(saved), {k: v for k, v in filled({**saved, **given}).items() if k in given}


def _refuse_changes(run: Path, saved: dict[str, Any], given: dict[str, Any]) -> None:
    """A ConfigError naming each given setting that differs from the run's own (compared as
    the run resolves them)."""
    changed = []
    runs, wants = _resolved(run, saved, given)
    for key, value in given.items():
        if key in RESUME_OVERRIDES:
            continue
        have, want = runs.get(key), wants[key]
        if isinstance(want, dict) and isinstance(have, dict):
            differs = any(have.get(k) != v for k, v in want.items())
        else:
            differs = plain(want) != plain(have)
        if differs:
            shown = _shown(saved.get(key))
            changed.append(f"--{key.replace('_', '-')} {_shown(value)} (the run: {shown})")
    if changed:
        raise ConfigError(
            f"--resume continues {run} as it was set up, but these options differ from it: "
            f"{'; '.join(changed)}. Leave them out (only the length, --device, --workers and "
            "--checkpoint-every may change), or start a new run with another --out"
        )


def _shown(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return " ".join(map(str, value)) or "none"
    return "default" if value is None or value == {} else str(value)


def new_run_path(cfg: TrainConfig, out: Path | None, root: Path = Path("runs")) -> Path:
    """`out`, or a fresh runs/<time>-<tokenizer>-<model>; never a folder holding a run."""
    run = out or RunDir.new(root, cfg.tokenizer, cfg.model).path
    if RunDir(run).config_file.exists():
        raise ConfigError(f"{run} already holds a run; pass --resume or another --out")
    return run


def train_run(
    cfg: TrainConfig,
    run: Path,
    *,
    resume: bool = False,
    log: Log = print,
    progress: bool = True,
    dist_timeout: float = distributed.DEFAULT_TIMEOUT,
) -> Path:
    """Train `cfg` into the run directory `run` (continuing it if `resume`); its path."""
    set_threads()
    with distributed.guard(dist_timeout):
        from mgen.core.contracts import registry

        cfg = finetune.init_config(cfg, log) if cfg.init and not resume else cfg
        model_cls = registry.load("model", cfg.model)  # unknown names fail before any data
        dist = distributed.setup(resolve_device(cfg.device), dist_timeout)
        resolve_precision(cfg.precision, dist.device)  # a bad name fails before any data is read
        run, log, progress = _join_ranks(dist, cfg, run, log, progress)
        tok = _tokenizer(cfg, run, resume)
        given, cfg = cfg, defaults.resolve(cfg, tok, carries_state=model_cls.carries_state)
        data = _data(cfg, tok, not (resume or cfg.init), dist, log, progress)
        if message := defaults.default_length(given, cfg):
            log(message)
        if not resume and (message := small.advice(cfg, data.summary)):
            log(message)
        model = finetune.init_model(cfg, len(require_vocab(tok))) if cfg.init else None
        trainer = Trainer(cfg, run, data, model=model, dist=dist, log=log, progress=progress)
        if resume:
            trainer.restore()
        if dist.is_main:
            RunDir(run).create()
            RunDir(run).mark_latest()
        log(
            f"training {cfg.model} ({trainer.model.num_parameters():,} parameters) on "
            f"{trainer.device}{dist.describe()} [{trainer.precision}], run directory {run}"
        )
        return trainer.fit()


def _data(cfg: TrainConfig, tok: Tokenizer, fit: bool, dist, log: Log, progress: bool) -> TrainData:
    """The run's training data, cut as its resolved settings say."""
    return prepare_data(
        tok, cfg.data, seq_len=cfg.seq_len, batch_size=cfg.batch_size,
        val_fraction=cfg.val_fraction, val_data=cfg.val_data, seed=cfg.seed,
        batching=cfg.batching, fit=fit, workers=cfg.workers, log=log, progress=progress,
        dist=dist, controls=cfg.controls, control_dropout=cfg.control_dropout,
        control_every=cfg.control_every, infill_share=cfg.infill_share,
    )  # fmt: skip


def _tokenizer(cfg: TrainConfig, run: Path, resume: bool) -> Tokenizer:
    """A resumed run's own tokenizer, the init run's (fine-tuning), or a new one to fit."""
    if resume:
        return RunDir(run).load_tokenizer()
    if cfg.init:
        return finetune.init_tokenizer(cfg)
    return build_tokenizer(cfg.tokenizer, cfg.tokenizer_options)


def _join_ranks(dist, cfg: TrainConfig, run: Path, log: Log, progress: bool):
    """Several processes: rank 0 alone speaks and names the run; batches split evenly."""
    if not dist.active:
        return run, log, progress
    if cfg.batch_size % dist.world:
        raise ConfigError(
            f"--batch-size {cfg.batch_size} is the global batch and must "
            f"divide evenly over {dist.world} processes"
        )
    if not dist.is_main:
        log, progress = _silent, False
    return Path(dist.broadcast(str(run))), log, progress


def _silent(msg: str) -> None:
    """The log of ranks other than 0."""
    del msg
