"""One run directory, and the only module that names its files.

    config.json        settings and facts of the run, each written once (`layout`)
    tokenizer.json     the tokenizer: its plugin's name, version and distribution, settings,
                       vocabulary
    model.safetensors  best-on-validation weights
    checkpoint.pt      last state for --resume (tensors and numbers only: weights_only=True)
    metrics.csv        one row per evaluation
    loss.png           the loss curve
    MODEL.md           a shipped model's card: its first line that is no heading describes it
    README.md          a run shared on the Hugging Face Hub: the Hub's model card (`mgen export`)
    samples/           generated pieces, a folder per `mgen sample`

`RunDir` is to a run what `save_pretrained`/`from_pretrained` are to a Hugging Face model:
whoever writes or reads a run's files goes through it (training, loading, fine-tuning, listing,
the web catalog, the judge). Reading facts and checks never imports torch; only weights,
checkpoints and the model do. Writes are atomic (mgen.core.contracts.io).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mgen.core.contracts.errors import CheckpointError, ConfigError, MgenError
from mgen.core.contracts.io import read_json, write_json, write_text
from mgen.core.runs import header, hub, layout, metrics, shipped

if TYPE_CHECKING:
    from mgen.core.contracts.model import SequenceModel
    from mgen.core.contracts.tokenizer import Tokenizer

__all__ = ["CONFIG", "TOKENIZER", "WEIGHTS", "CHECKPOINT", "METRICS", "CURVE", "CARD",
           "HUB_CARD", "REQUIRED", "SHARED", "Facts", "RunDir", "Start"]  # fmt: skip

CONFIG, TOKENIZER, WEIGHTS = "config.json", "tokenizer.json", "model.safetensors"
CHECKPOINT, METRICS, CURVE = "checkpoint.pt", "metrics.csv", "loss.png"
CARD, SAMPLES, LATEST, HUB_CARD = "MODEL.md", "samples", "latest", "README.md"
#: What a run must hold to be loaded, listed or shipped (a shipped one leaves its checkpoint out).
REQUIRED = (CONFIG, TOKENIZER, WEIGHTS)
#: What a shared run holds (`mgen export`; fetched from the Hub), those of them it has: what it
#: loads from and what describes it, not the checkpoint (optimizer state) nor the samples.
SHARED = (*REQUIRED, METRICS, CURVE, CARD)


@dataclass(frozen=True)
class Facts:
    """What a listing shows of a run, read from its files without torch."""

    tokenizer: str
    model: str
    parameters: int | None  # from the weights' header; None when it cannot be read
    val_loss: float | None  # the best of metrics.csv
    description: str  # the card's first line ('' without a card)


@dataclass(frozen=True)
class Start:
    """What a fine-tuned run takes from the run it starts from (`mgen train --init`)."""

    name: str  # the shipped model's name, hf:owner/name@commit, or the run's path
    tokenizer: str
    model: str
    tokenizer_options: dict[str, Any]
    model_sizes: dict[str, Any]  # its model's settings, less the vocabulary size


class RunDir:
    """A run directory: where each file lives, how it is written, read and checked."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.config_file, self.tokenizer_file = self.path / CONFIG, self.path / TOKENIZER
        self.weights, self.checkpoint = self.path / WEIGHTS, self.path / CHECKPOINT
        self.metrics, self.curve, self.card = (
            self.path / METRICS,
            self.path / CURVE,
            self.path / CARD,
        )

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunDir) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)

    # -- where ---------------------------------------------------------------------------------
    @classmethod
    def resolve(cls, name_or_path: Path | str) -> RunDir:
        """`name_or_path` itself when it holds a run (absolute; a missing `runs/latest` link
        falls back to `latest.txt`), else the shipped model of that name, or the run on the
        Hugging Face Hub an `hf:owner/name[@revision]` names (`mgen.core.runs.hub`: cached,
        read-only), checked whole."""
        path = Path(name_or_path)
        if not path.exists() and path.name == LATEST and path.with_suffix(".txt").exists():
            path = path.parent / path.with_suffix(".txt").read_text().strip()
        if cls(path).is_run():
            return cls(path.resolve())
        if hub.is_hub_name(name_or_path):
            return cls._hub(str(name_or_path))
        found = shipped.entry_points_by_name().get(str(name_or_path))
        if found is not None:
            return cls._shipped(str(name_or_path), shipped.folder(found), found.value)
        if path.name == LATEST:
            raise CheckpointError(
                f"no run directory at {path} (train one with `mgen train`, or pass --run DIR "
                "or a shipped model's name)"
            )
        available = ", ".join(shipped.names()) or "(none installed)"
        raise CheckpointError(
            f"no run directory at {path}, nor a shipped model of that name; shipped models: "
            f"{available} (see `mgen models`); a run on the Hugging Face Hub: hf:OWNER/NAME"
        )

    @classmethod
    def _shipped(cls, name: str, folder: Path | None, value: str) -> RunDir:
        try:
            if folder is None or not folder.is_dir():
                raise CheckpointError(f"{value} is not an installed package folder")
            cls(folder).check_whole()
        except CheckpointError as e:
            raise CheckpointError(f"shipped model {name!r} is damaged: {e}") from None
        return cls(folder)

    @classmethod
    def _hub(cls, name: str) -> RunDir:
        folder = hub.download(name, (CONFIG, TOKENIZER), (*SHARED, HUB_CARD))
        try:
            cls(folder).check_whole()
        except CheckpointError as e:
            raise CheckpointError(f"{name} is not a whole mgen run ({e})") from None
        return cls(folder)

    @classmethod
    def new(cls, root: Path, tokenizer: str, model: str) -> RunDir:
        """A fresh runs/<time>-<tokenizer>-<model> under `root` (not created yet)."""
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        base = Path(root) / f"{stamp}-{tokenizer}-{model}"
        path, n = base, 1
        while path.exists():
            n += 1
            path = base.with_name(f"{base.name}-{n}")
        return cls(path)

    @classmethod
    def find(cls, root: Path, max_depth: int = 3) -> list[RunDir]:
        """The runs in `root` (resolved) and its folders up to `max_depth` deep, none reached
        through a link that leads out of `root` nor holding such a link; each real folder
        once (`latest` and its target are one run: the real name wins)."""
        root, found = Path(root).resolve(), {}
        for here, dirs, _files in os.walk(root, followlinks=False):
            folder = Path(here)
            depth = len(folder.relative_to(root).parts)
            dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if depth < max_depth else []
            for cand in [folder] + [folder / d for d in dirs if (folder / d).is_symlink()]:
                files = cls(cand).required_files()
                if all(_inside(f, root) and f.is_file() for f in files) and _inside(cand, root):
                    real = cand.resolve()
                    if real not in found or found[real].is_symlink():
                        found[real] = cand
        return [cls(path) for path in sorted(found.values())]

    def is_run(self) -> bool:
        return self.config_file.is_file()

    def required_files(self) -> list[Path]:
        return [self.path / name for name in REQUIRED]

    def samples(self, stamp: str) -> Path:
        """The folder for one batch of samples drawn from this run."""
        return self.path / SAMPLES / stamp

    def shipped_name(self) -> str | None:
        """The name of a read-only run: a shipped model's, or `hf:owner/name` for a run in the
        Hugging Face Hub's cache; None for a run directory of one's own."""
        return hub.hub_name(self.path) or shipped.shipped_name(self.path)

    # -- the folder ----------------------------------------------------------------------------
    def create(self) -> None:
        """Create the run directory, or say plainly why it cannot be."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise MgenError(f"cannot create run directory {self.path}: {e.strerror or e}") from None

    def mark_latest(self) -> None:
        """Point `<root>/latest` at this run (a relative symlink, replaced atomically)."""
        link = self.path.parent / LATEST
        tmp = self.path.parent / f".{LATEST}.{os.getpid()}"
        try:
            if tmp.is_symlink():
                tmp.unlink()
            tmp.symlink_to(self.path.name)
            os.replace(tmp, link)
        except OSError:  # filesystems without symlinks get a text file naming the run
            write_text(link.with_suffix(".txt"), self.path.name + "\n")

    def remove_stale_temps(self) -> None:
        """Delete temporary files a killed run left behind (atomic writes never finished)."""
        for tmp in self.path.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()

    # -- config and tokenizer ------------------------------------------------------------------
    def save_config(self, config: dict[str, Any]) -> None:
        """config.json from a config in `read_config`'s shape, each fact written once: the
        tokenizer's facts are tokenizer.json's (`layout.stored`)."""
        config = dict(config)
        if "plugins" not in config and isinstance(config.get("model"), str):
            config["plugins"] = {"model": _plugin("model", config["model"])._asdict()}
        write_json(self.config_file, layout.stored(config))

    def save_decoding(self, chosen: dict[str, Any]) -> None:
        """The run's chosen decoding (mgen.core.runs.decoding) into config.json, every other
        fact as it was written."""
        write_json(self.config_file, {**read_json(self.config_file), "decoding": chosen})

    def read_config(self) -> dict[str, Any]:
        """config.json of either layout, in the shape every reader knows (`layout.view`): the
        tokenizer's facts read from tokenizer.json."""
        return layout.view(read_json(self.config_file), self.tokenizer_plugin())

    def save_tokenizer(self, name: str, tok: Tokenizer) -> None:
        record = _plugin("tokenizer", name)
        state = {"plugin": name, "plugin_version": record.version,
                 "distribution": record.distribution, **tok.state_dict()}  # fmt: skip
        write_json(self.tokenizer_file, state)

    def tokenizer_plugin(self) -> layout.Plugin:
        """The tokenizer's plugin as tokenizer.json records it: the one home of its name."""
        return self._plugin_of(read_json(self.tokenizer_file))

    def load_tokenizer(self) -> Tokenizer:
        """The run's tokenizer, with its vocabulary (its plugin named by tokenizer.json)."""
        from mgen.core.contracts import registry

        state = read_json(self.tokenizer_file)
        return registry.load("tokenizer", self._plugin_of(state).name).from_state_dict(state)

    def controls(self) -> dict[str, list[str]]:
        """The attribute controls the run was trained with and the values it saw, read from
        its vocabulary (mgen.core.contracts.controls) without loading the tokenizer."""
        from mgen.core.contracts.controls import known
        from mgen.core.contracts.vocab import Vocab

        tokens = read_json(self.tokenizer_file).get("vocab")
        return known(Vocab(tokens)) if isinstance(tokens, list) else {}

    def infills(self) -> str | None:
        """What the run regenerates a span of ("bars" or "beats") when it was trained with
        --infill (the sentinels are in its vocabulary) and its tokenizer says where its units
        begin; else None. Read without loading the tokenizer (nor torch)."""
        from mgen.core.contracts import infill, registry
        from mgen.core.contracts.vocab import Vocab

        state = read_json(self.tokenizer_file)
        tokens = state.get("vocab")
        if not isinstance(tokens, list) or not infill.trained(Vocab(tokens)):
            return None
        cls = registry.load("tokenizer", self._plugin_of(state).name)
        return f"{infill.unit(cls)}s" if callable(getattr(cls, "spans", None)) else None

    def _plugin_of(self, state: dict[str, Any]) -> layout.Plugin:
        name = state.get("plugin")
        if not isinstance(name, str):
            raise CheckpointError(f"{self.tokenizer_file} names no tokenizer plugin")
        return layout.Plugin(name, state.get("plugin_version"), state.get("distribution"))

    # -- tensors (these import torch) ----------------------------------------------------------
    def save_weights(self, model: SequenceModel) -> None:
        from mgen.core.runs import tensors

        tensors.save_weights(self.weights, model)

    def load_weights(self, model: SequenceModel) -> None:
        from mgen.core.runs import tensors

        tensors.load_weights(self.weights, model)

    def save_checkpoint(self, state: dict[str, Any]) -> None:
        from mgen.core.runs import tensors

        tensors.save_checkpoint(self.checkpoint, state)

    def load_checkpoint(self) -> dict[str, Any]:
        from mgen.core.runs import tensors

        return tensors.load_checkpoint(self.checkpoint)

    def load_model(self, vocab_size: int, config: dict[str, Any] | None = None) -> SequenceModel:
        """The run's model, built from its config and given its best weights (on the CPU)."""
        from mgen.core.contracts.model import build_model

        config = self.read_config() if config is None else config
        try:
            model = build_model(config["model"], config["model_config"])
        except (KeyError, TypeError) as e:
            raise CheckpointError(f"{self.config_file} lacks {e}") from None
        if config["model_config"].get("vocab_size") != vocab_size:
            raise CheckpointError(f"{self.path}: model vocabulary size does not match {TOKENIZER}")
        self.load_weights(model)
        return model

    # -- history -------------------------------------------------------------------------------
    def write_metrics(self, rows: list[dict[str, Any]]) -> None:
        metrics.write_rows(self.metrics, rows)

    def read_metrics(self) -> list[dict[str, Any]]:
        return metrics.read_rows(self.metrics)

    def best_val_loss(self) -> float | None:
        return metrics.best_val_loss(self.read_metrics())

    # -- checks and facts ----------------------------------------------------------------------
    def check_resumable(self) -> None:
        """Refuse to resume a run that has trained weights but no checkpoint (a shared or
        shipped run leaves it out): starting again from step 0 would overwrite them. Runs mgen
        trains write a checkpoint before their first weights, so a run killed before its first
        checkpoint has no weights and may start again."""
        if self.weights.exists() and not self.checkpoint.exists():
            raise ConfigError(
                f"{self.path} holds trained weights ({WEIGHTS}) but no {CHECKPOINT} to continue "
                f"from; --resume would start it again and overwrite them: fine-tune it into a "
                f"new run instead (mgen train --init {self.path} --out NEW)"
            )

    def check_whole(self) -> dict[str, Any]:
        """The config, after checking that the run's files are there and whole (its JSON
        readable, its weights not truncated); a CheckpointError says what is wrong."""
        for path in self.required_files():
            if not path.is_file():
                raise CheckpointError(f"missing {path}")
        config = read_json(self.config_file)
        tokenizer = self.tokenizer_plugin()
        header.check_whole(self.weights)
        return layout.view(config, tokenizer)

    def parameters(self) -> int | None:
        """Numbers in the weights, from their header (no tensor is loaded)."""
        try:
            return header.read_header(self.weights).parameters
        except CheckpointError:
            return None

    def description(self) -> str:
        """The card's first line that is not a heading: the model's one-line description."""
        try:
            lines = self.card.read_text(encoding="utf-8").splitlines()
        except OSError:
            return ""
        return next((ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")), "")

    def facts(self, config: dict[str, Any] | None = None) -> Facts:
        """What a listing shows (`config`: the run's, when already read)."""
        config = self.read_config() if config is None else config
        tokenizer, model = str(config.get("tokenizer", "?")), str(config.get("model", "?"))
        loss = self.best_val_loss()
        return Facts(tokenizer, model, self.parameters(), loss, self.description())

    def start(self) -> Start:
        """What fine-tuning from this run takes over: its tokenizer (with its settings) and
        its model (with its sizes)."""
        config = self.read_config()
        try:
            sizes = {k: v for k, v in config["model_config"].items() if k != "vocab_size"}
            tokenizer, model = str(config["tokenizer"]), str(config["model"])
        except (KeyError, AttributeError) as e:
            raise CheckpointError(f"{self.config_file} lacks {e}") from None
        settings = config.get("train", {}).get("tokenizer_options", {})
        name = hub.hub_name(self.path, pinned=True) or self.shipped_name() or str(self.path)
        return Start(name, tokenizer, model, dict(settings), sizes)

    def identity(self) -> list[bytes]:
        """The bytes that define what the run is (its config and tokenizer), for cache keys."""
        return [self.config_file.read_bytes(), self.tokenizer_file.read_bytes()]


def _inside(path: Path, root: Path) -> bool:
    """Whether `path`, every link followed, lies under `root` (already resolved)."""
    try:
        return path.resolve(strict=True).is_relative_to(root)
    except (OSError, RuntimeError):  # a broken or looping link
        return False


def _plugin(kind: str, name: str) -> layout.Plugin:
    """`name`'s installed version and distribution, as a run records them."""
    from mgen.core.contracts import registry

    return layout.Plugin(
        name, registry.plugin_version(kind, name), registry.plugin_distribution(kind, name)
    )
