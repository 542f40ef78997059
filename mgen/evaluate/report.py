"""`mgen eval` on files: validity, form, statistics, repetition, copies and distinguishability,
each beside the same figure of real pieces (the corpus baseline).

The reference (`--reference`, or pieces of a run's validation split: the music it learned
from but never trained on) gives the statistics and every corpus figure (`baseline`); its
pieces are drawn one by one (`draw`), so a collection of many one-tune files does not outweigh
one of a few big files. Copies are found against a run's whole training split (`copies`) when
there is a run, else against every piece of the reference. `render_text` (in `text`) prints it
all as "samples X, corpus Y" rows; `html` draws it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mgen.core.contracts import registry
from mgen.core.contracts.errors import ConfigError, DataError
from mgen.core.data.corpus import find_files
from mgen.evaluate import baseline, classify, copies, draw, form, voices
from mgen.evaluate.notes import (
    Piece,
    Reader,
    read_pieces,
    readable_patterns,
    reader_for,
    reason,
    require_reader,
)
from mgen.evaluate.text import render_text
from mgen.evaluate.validity import Unit, judge, kind_of

if TYPE_CHECKING:
    from mgen.core.contracts.tokenizer import Tokenizer
    from mgen.core.data.prepare import Split

__all__ = [
    "Reference",
    "check_file",
    "evaluate",
    "evaluate_files",
    "evaluate_run_samples",
    "render_text",
    "run_reference",
]

Log = Callable[[str], None]
DEFAULT_REFERENCE_LIMIT = 200


def _quiet(_: str) -> None:
    pass


# -- reference corpus -------------------------------------------------------------------------


@dataclass
class Reference:
    """Real pieces to compare with, their judged units and every corpus-side figure."""

    source: str
    files: int
    pieces: list[Piece]
    units: list[Unit]
    checks: list[str]
    corpus: dict[str, Any]  # baseline.corpus_figures
    drawn: str = ""  # how the pieces were drawn, for the report ("200 pieces drawn ...")

    @property
    def stats(self) -> dict[str, float]:
        return self.corpus["stats"]

    def collections(self) -> dict[str, int]:
        """Pieces per folder (a corpus's collections: essenFolksong, ryansMammoth, ...)."""
        folders = Counter(Path(p.name.split("#")[0]).parent.name for p in self.pieces)
        return dict(sorted(folders.items()))

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "files": self.files,
            "pieces": len(self.pieces),
            "drawn": self.drawn,
            "collections": self.collections(),
            "checks": self.checks,
            "stats": self.stats,
        }


def reference_files(specs: Sequence[str]) -> list[Path]:
    """Readable files named by `specs`: files, folders, or dataset names (`mgen data list`)."""
    files: list[Path] = []
    for spec in specs:
        path = Path(spec)
        if path.exists():
            files.extend(find_files([path], readable_patterns()))
        elif spec in registry.names("dataset"):
            files.extend(registry.load("dataset", spec)().files())
        else:
            datasets = ", ".join(registry.names("dataset")) or "none installed"
            raise DataError(f"no such file, folder or dataset: {spec} (datasets: {datasets})")
    files = [f for f in dict.fromkeys(files) if reader_for(f)]
    if not files:
        raise DataError(f"no readable music files in {', '.join(specs)}")
    return files


def load_reference(
    files: Sequence[Path], limit: int | None, source: str, log: Log = _quiet
) -> Reference:
    """Read and judge at most `limit` pieces spread evenly over every piece of `files` (each
    piece, not each file, has the same chance: `draw`). Unreadable parts are skipped."""
    chosen, total = draw.draw_files(files, limit)
    n = sum(map(len, chosen.values()))
    how = f"{_count(n, 'piece')} drawn evenly from all {total:,} pieces of its {len(files):,} files"
    return _read_reference(chosen, source, how, log)


def split_reference(
    split: Split, tok: Tokenizer, limit: int | None, source: str, log: Log = _quiet
) -> Reference:
    """The reference of a run: at most `limit` pieces spread evenly over its validation split
    (`split`: `mgen.core.data.prepare.run_split`), the real music it never trained on."""
    ids, which = split.val, "validation split"
    if len(ids) == 0:  # a corpus too small to hold any piece out
        ids, which = split.train, "training split (it has no validation split)"
    chosen = draw.draw_split(split.held if len(split.val) else split.corpus, ids, tok, limit)
    n = sum(map(len, chosen.values()))
    how = f"{_count(n, 'piece')} drawn evenly from its {which} of {len(ids):,} pieces"
    return _read_reference(chosen, source, how, log)


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def _read_reference(chosen: draw.Draw, source: str, how: str, log: Log) -> Reference:
    log(f"reading the reference: {how} ({_count(len(chosen), 'file')}, {source})")
    pieces, units, checks = draw.read_draw(chosen)
    if not pieces:
        raise DataError(f"no readable piece in the reference {source}")
    corpus = baseline.corpus_figures(pieces, units)
    return Reference(source, len(chosen), pieces, units, checks, corpus, how)


# -- validity ---------------------------------------------------------------------------------


@dataclass
class FileCheck:
    path: Path
    format: str  # the reader's name: "midi", "musicxml" or a tokenizer plugin's
    pieces: list[Piece] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return bool(self.pieces) and not self.errors


def check_file(path: Path, reader: Reader | None = None) -> FileCheck:
    """Read one file, run its format's checks, and a plugin format's own (`Format.check`)."""
    reader = reader or require_reader(path)
    pieces, errors = read_pieces(path, reader=reader)
    verdict = judge(Path(path), kind_of(Path(path), reader.format.name))
    check = FileCheck(Path(path), reader.name, pieces, errors, list(verdict.checks), verdict.units)
    check.checks.insert(0, f"{reader.name} reader (its notes)")
    check.errors += [e for u in verdict.units for e in u.errors]
    if reader.plugin is not None and pieces:
        check.checks.append(f"the {reader.name} format's own checks")
        try:
            check.errors += [str(p) for p in reader.format.check(Path(path))]
        except Exception as e:  # noqa: BLE001 - a plugin's checker may fail in any way
            check.errors.append(f"{reader.name} check failed: {reason(e)}")
    check.errors = list(dict.fromkeys(check.errors))
    return check


# -- the report -------------------------------------------------------------------------------


@dataclass
class Judge:
    """What the samples are judged against: a reference, a copy index, the run's tokenizer."""

    reference: Reference | None = None
    index: copies.TrainingIndex | None = None
    tokenizer: Tokenizer | None = None


def evaluate(
    paths: Sequence[Path], reference: Reference | None, log: Log = _quiet, judge_with=None
) -> dict[str, Any]:
    """Every figure of `mgen eval`, per format (reader), as a JSON-able dict."""
    how: Judge = judge_with or Judge(reference)
    how.reference = reference
    files = find_files(list(paths), readable_patterns())
    if not files:
        raise DataError(f"no readable music files in {', '.join(map(str, paths))}")
    readers = [require_reader(f) for f in files]  # a named file nothing reads stops here
    log(f"checking {len(files)} file(s)")
    by_format: dict[str, list[FileCheck]] = {}
    for f, reader in zip(files, readers, strict=True):
        check = check_file(f, reader)
        by_format.setdefault(check.format, []).append(check)
    if how.index is None and reference is not None:
        how.index = copies.reference_index(reference.pieces, reference.source)
    return {
        "files": [str(f) for f in files],
        "reference": reference.summary() if reference else None,
        "corpus": reference.corpus if reference else None,
        "copy_index": how.index.summary() if how.index else None,
        "formats": {fmt: format_report(checks, how) for fmt, checks in by_format.items()},
    }


def format_report(checks: list[FileCheck], how: Judge | None = None) -> dict[str, Any]:
    """Figures for the files of one format. Statistics cover every piece that could be read."""
    how = how or Judge()
    valid = [c for c in checks if c.valid]
    pieces = [p for c in checks for p in c.pieces]
    out: dict[str, Any] = {
        "files": len(checks),
        "valid": len(valid),
        "validity": len(valid) / len(checks),
        "checks": list(dict.fromkeys(x for c in checks for x in c.checks)),
        "invalid": [
            {"file": str(c.path), "reason": "; ".join(c.errors) or "no piece"}
            for c in checks
            if not c.valid
        ],
        "pieces": len(pieces),
        "notes": int(sum(len(p) for p in pieces)),
    }
    if not pieces:
        return out
    units = [u for c in checks for u in c.units]
    out["stats"] = baseline.mean_stats(pieces)
    out["repetition"] = baseline.repetition(pieces)
    out["form"] = form.piece_form(pieces, baseline.unit_facts(units))
    ref = how.reference
    if ref is not None:
        out.update(baseline.divergences(pieces, ref.pieces, out["form"], ref.corpus["form"]))
        out["reference_stats"] = ref.stats
        out["distinguish"] = classify.distinguish(pieces, ref.pieces)
    in_voices = voices.sample_voices(pieces, ref.pieces if ref is not None else None)
    if in_voices is not None:  # only music in voices gets the voice rows
        out["voices"] = in_voices
    if how.index is not None:
        melodies = copies.sample_melodies([c.path for c in checks], pieces, how.tokenizer)
        out["novelty"] = copies.novelty(melodies, how.index)
    return out


def evaluate_files(
    paths: Sequence[Path],
    reference: Sequence[str] | None = None,
    reference_limit: int | None = DEFAULT_REFERENCE_LIMIT,
    log: Log = _quiet,
) -> dict[str, Any]:
    """The whole of `mgen eval PATH...`: resolve and read the reference, then judge the files;
    copies are looked for in every piece of the reference, not only in the pieces read."""
    _check_limit(reference_limit)
    if not reference:
        return evaluate(paths, None, log)
    files, source = reference_files(reference), ", ".join(reference)
    ref = load_reference(files, reference_limit or None, source, log)
    index, tok = copies.whole_reference_index(files, source, log)
    return evaluate(paths, ref, log, Judge(ref, index, tok))


def _check_limit(limit: int | None) -> None:
    if limit is not None and limit < 0:
        raise ConfigError("--reference-limit must be >= 0 (0: the whole reference)")


def evaluate_run_samples(
    paths: Sequence[Path],
    run: Any,
    log: Log = _quiet,
    reference: Sequence[str] | None = None,
    reference_limit: int | None = DEFAULT_REFERENCE_LIMIT,
) -> dict[str, Any]:
    """`mgen sample --eval` and `mgen eval --run RUN FILES`: files judged against what `run` (a
    loaded Run, or anything with its `config` and `tokenizer`) trained on: copies against its
    whole training split, statistics against `reference` (default: pieces of its validation
    split, the part of its data it did not train on)."""
    _check_limit(reference_limit)
    how = run_reference(run.config, run.tokenizer, reference_limit or None, log, reference)
    samples = list(dict.fromkeys(map(Path, paths)))
    return evaluate(samples, how.reference, log, how)


def run_reference(
    config: dict[str, Any],
    tok: Tokenizer,
    limit: int | None,
    log: Log = _quiet,
    reference: Sequence[str] | None = None,
) -> Judge:
    """What samples of a run are judged against, built from its data in this one place (`mgen
    eval --run`, `mgen sample --eval`, the web server's cached judge data): the copy index of
    its whole training split, and a reference of `reference` (files, folders or datasets) or
    else of at most `limit` pieces of its validation split."""
    from mgen.core.data.prepare import run_split

    split = run_split(config, tok, log=log)
    index = copies.training_index(config, tok, log, split)
    if reference:
        files, source = reference_files(reference), ", ".join(reference)
        ref = load_reference(files, limit, source, log)
    else:
        ref = split_reference(split, tok, limit, _run_source(config), log)
    return Judge(ref, index, tok)


def _run_source(config: dict[str, Any]) -> str:
    """The run's data as the report names it: its --val-data, when it validated on that."""
    train = config.get("train", {})
    if train.get("val_data"):
        return ", ".join(map(str, train["val_data"])) + " (the run's --val-data)"
    data = train.get("data") or []
    return ", ".join(map(str, data)) or f"the {config.get('tokenizer')} default dataset"


@dataclass
class RunContext:
    """What judging needs of a run directory: its config and tokenizer (not its model)."""

    config: dict[str, Any]
    tokenizer: Tokenizer


def run_context(path: Path) -> RunContext:
    """The judging context of a run directory or shipped model, read by the run artifact."""
    from mgen.core.runs.artifact import RunDir

    run = RunDir.resolve(path)
    return RunContext(run.read_config(), run.load_tokenizer())
