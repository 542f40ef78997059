"""What the API's operations return: plain dataclasses a caller prints, tests or serves.

Nothing here imports torch or the library's heavy modules at import time (`mgen --help`
imports this module); the methods that render or write import what they need when called.
A judgement and a loss read like the dicts of mgen 0.1 (`report["formats"]`), so callers of
`mgen.judge` and `mgen.score` keep working.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mgen.core.runs.output import Written
    from mgen.core.runs.run import Run
    from mgen.core.sampling.engine import GrammarReport
    from mgen.core.training.train_config import TrainConfig


@dataclass(frozen=True)
class TrainResult:
    """A finished (or stopped and checkpointed) training run: where it is and how it ran."""

    path: Path  # the run directory
    config: TrainConfig  # the settings it trained with (a resumed run's own, extended)
    resumed: bool

    def load(self, device: str = "cpu") -> Run:
        """The run, loaded to sample or score (its best weights)."""
        from mgen.core.runs.run import load_run

        return load_run(self.path, device)


@dataclass(frozen=True)
class GrammarUse:
    """How a batch was sampled where the tokenizer has a grammar: with it (`on`) or raw, and
    per sample the steps at which it refused the model's first choice, of the steps sampled."""

    on: bool
    report: GrammarReport

    @property
    def refused(self) -> list[int]:
        return self.report.refused

    @property
    def steps(self) -> list[int]:
        return self.report.steps

    def share(self) -> float:
        """The share of all steps at which the model's first choice was refused."""
        return self.report.share()

    def to_dict(self) -> dict[str, Any]:
        return {"on": self.on, "refused": self.refused, "steps": self.steps}


@dataclass(frozen=True)
class SampleResult:
    """A sampled batch: the run it came from, each piece's tokens, the files written (native
    and MIDI, with what could not be written), and the grammar's part (None: it has none)."""

    run: Run
    pieces: list[list[str]]
    written: Written
    grammar: GrammarUse | None

    @property
    def paths(self) -> list[Path]:
        return self.written.paths

    def by_sample(self) -> list[tuple[list[str], list[Path]]]:
        """Each piece that was written, with its files (its native file first, MIDI last)."""
        out = []
        for i, piece in enumerate(self.pieces, 1):
            mine = sorted((p for p in self.written.paths if p.stem == f"sample-{i:03d}"),
                          key=lambda p: p.suffix == ".mid")  # fmt: skip
            if mine:
                out.append((piece, mine))
        return out


class _Figures(Mapping[str, Any]):
    """A report's figures, read as the dict they are (`result["formats"]`)."""

    figures: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.figures[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.figures)

    def __len__(self) -> int:
        return len(self.figures)

    def write_json(self, path: Path) -> Path:
        """Every figure as JSON (written atomically)."""
        from mgen.core.contracts.io import write_json

        return write_json(Path(path), self.figures)


@dataclass(frozen=True, eq=False)
class Judgement(_Figures):
    """`mgen eval` of music files: per format validity, form, statistics, repetition, copies
    and distinguishability, each beside the reference corpus's figure."""

    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def files(self) -> list[Path]:
        return [Path(f) for f in self.figures["files"]]

    def text(self) -> str:
        """The table `mgen eval` prints."""
        from mgen.evaluate.report import render_text

        return render_text(self.figures)

    def tables(self) -> dict[str, dict[str, Any]]:
        """Per format the rows of that table ("samples X, corpus Y") and the validity: what
        the web page shows."""
        from mgen.evaluate.text import rows

        corpus = self.figures["corpus"]
        return {
            fmt: {"rows": rows(figures, corpus), "validity": figures["validity"]}
            for fmt, figures in self.figures["formats"].items()
        }

    def write_html(self, path: Path) -> Path:
        """One self-contained page: the table, histograms, piano rolls of the first samples."""
        from mgen.evaluate.html import write_html

        return write_html(self.figures, self.files, Path(path))


@dataclass(frozen=True, eq=False)
class Loss(_Figures):
    """A run's loss on files it never saw: nats and bits per token, accuracy, <unk> counts."""

    figures: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        from mgen.evaluate.heldout import render_text

        return render_text(self.figures)


@dataclass(frozen=True)
class PluginKind:
    """The installed plugins of one kind (tokenizer, model, decoder, dataset), and a warning
    per name two packages register."""

    kind: str
    group: str  # the entry-point group
    plugins: list[Any]  # mgen.core.contracts.registry.PluginInfo
    warnings: list[str]


@dataclass(frozen=True)
class ShippedModels:
    """The trained models installed packages ship (`mgen models`)."""

    group: str  # the entry-point group they are registered in
    models: list[Any]  # mgen.core.runs.pretrained.Pretrained


@dataclass(frozen=True)
class DatasetInfo:
    """One installed dataset; `error` says why a broken one could not be described."""

    name: str
    tokenizer: str = "?"
    format: str = "?"
    files: int | None = None
    prepared: str = "?"  # yes (files and token cache), files only, no
    source: str = ""
    licence: str = ""
    error: str | None = None


@dataclass(frozen=True)
class PreparedDataset:
    """A dataset written and its tokens parsed and cached (`mgen data prepare`)."""

    name: str
    files: list[Path]  # every file of the dataset
    pieces: int
    used_files: int  # files that gave pieces
    tokens: int
    from_cache: bool  # the tokens were cached already
    cache: Path  # the token cache file (absent when it could not be written)
