"""`mgen eval` on files: validity, statistics against a reference, repetition and novelty."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mgen.core import registry
from mgen.core.corpus import find_files
from mgen.core.errors import ConfigError, DataError
from mgen.evaluate import metrics
from mgen.evaluate.notes import (
    Piece,
    Reader,
    evenly,
    read_pieces,
    readable_patterns,
    reader_for,
    reason,
    require_reader,
)

if TYPE_CHECKING:
    from mgen.core.run import Run

Log = Callable[[str], None]
DEFAULT_REFERENCE_LIMIT = 200


def _quiet(_: str) -> None:
    pass


# -- reference corpus -------------------------------------------------------------------------


@dataclass
class Reference:
    """What samples are compared with: aggregate pitch classes, mean statistics, interval runs."""

    source: str
    files: int
    pieces: int
    histogram: np.ndarray  # [12] pitch-class counts over every reference note
    key_histogram: np.ndarray  # [12] the same with each piece rotated to C major / A minor
    stats: dict[str, float]  # mean of each metrics.STAT_NAMES over the pieces
    index: metrics.CopyIndex

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "files": self.files,
            "pieces": self.pieces,
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
    """Read at most about `limit` pieces: files spread evenly over the sorted list, and tunes
    spread evenly within multi-tune ABC files. Unreadable parts are skipped."""
    chosen = evenly(sorted(files), limit)
    per_file = max(1, limit // len(chosen)) if limit else None
    log(f"reading the reference: {len(chosen)} of {len(files)} files from {source}")
    pieces: list[Piece] = []
    for f in chosen:
        pieces.extend(read_pieces(f, per_file)[0])
    if not pieces:
        raise DataError(f"no readable piece in the reference {source}")
    stats = [metrics.piece_stats(p) for p in pieces]
    return Reference(
        source=source,
        files=len(chosen),
        pieces=len(pieces),
        histogram=_histogram(pieces),
        key_histogram=_histogram(pieces, by_key=True),
        stats={k: float(np.mean([s[k] for s in stats])) for k in metrics.STAT_NAMES},
        index=metrics.CopyIndex([p.melody() for p in pieces]),
    )


def _histogram(pieces: list[Piece], by_key: bool = False) -> np.ndarray:
    """[12] pitch-class counts summed over pieces (each rotated to one key if `by_key`)."""
    counts = [metrics.pitch_class_counts(p) for p in pieces]
    if by_key:
        counts = [metrics.key_normalized(c) for c in counts]
    return np.sum(counts, axis=0)


# -- validity ---------------------------------------------------------------------------------


@dataclass
class FileCheck:
    path: Path
    format: str  # the reader's name: "midi", "musicxml" or a tokenizer plugin's
    pieces: list[Piece] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return bool(self.pieces) and not self.errors


def check_file(path: Path, reader: Reader | None = None) -> FileCheck:
    """Read one file; a plugin's format also passes the plugin's own `check_file`."""
    reader = reader or require_reader(path)
    pieces, errors = read_pieces(path, reader=reader)
    check = FileCheck(Path(path), reader.name, pieces, errors)
    if reader.tokenizer is not None and check.valid:
        try:
            check.errors += [str(p) for p in reader.tokenizer.check_file(Path(path))]
        except Exception as e:  # noqa: BLE001 - a plugin's checker may fail in any way
            check.errors.append(f"{reader.name} check failed: {reason(e)}")
    return check


# -- the report -------------------------------------------------------------------------------


def evaluate(
    paths: Sequence[Path], reference: Reference | None, log: Log = _quiet
) -> dict[str, Any]:
    """Every figure of `mgen eval`, per format (reader), as a JSON-able dict."""
    files = find_files(list(paths), readable_patterns())
    if not files:
        raise DataError(f"no readable music files in {', '.join(map(str, paths))}")
    readers = [require_reader(f) for f in files]  # a named file nothing reads stops here
    log(f"checking {len(files)} file(s)")
    by_format: dict[str, list[FileCheck]] = {}
    for f, reader in zip(files, readers, strict=True):
        check = check_file(f, reader)
        by_format.setdefault(check.format, []).append(check)
    return {
        "reference": reference.summary() if reference else None,
        "formats": {fmt: format_report(checks, reference) for fmt, checks in by_format.items()},
    }


def format_report(checks: list[FileCheck], reference: Reference | None) -> dict[str, Any]:
    """Figures for the files of one format. Statistics cover every piece that could be read."""
    valid = [c for c in checks if c.valid]
    pieces = [p for c in checks for p in c.pieces]
    out: dict[str, Any] = {
        "files": len(checks),
        "valid": len(valid),
        "validity": len(valid) / len(checks),
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
    stats = [metrics.piece_stats(p) for p in pieces]
    out["stats"] = {k: float(np.mean([s[k] for s in stats])) for k in metrics.STAT_NAMES}
    out["repetition"] = _repetition(pieces)
    if reference is not None:
        out["pitch_class_jsd"] = metrics.js_divergence(_histogram(pieces), reference.histogram)
        out["pitch_class_jsd_key"] = metrics.js_divergence(
            _histogram(pieces, by_key=True), reference.key_histogram
        )
        out["reference_stats"] = reference.stats
        out["novelty"] = _novelty(pieces, reference.index)
    return out


def _repetition(pieces: list[Piece]) -> dict[str, Any]:
    periods = {p.name: metrics.tail_period(p.melody()) for p in pieces}
    looping = {name: per for name, per in periods.items() if per is not None}
    stuck = [p.name for p in pieces if metrics.is_stuck(p, periods[p.name])]
    return {
        "stuck": len(stuck),
        "stuck_share": len(stuck) / len(pieces),
        "stuck_pieces": stuck,
        "looping": len(looping),
        "looping_share": len(looping) / len(pieces),
        "looping_pieces": [{"piece": name, "period": per} for name, per in looping.items()],
        "rule": f"looping: the last half (>= {metrics.STUCK_TAIL} notes) of the top line repeats "
        f"a cycle >= 3 times; stuck: looping with a cycle of <= {metrics.STUCK_PERIOD} notes, or "
        f"one note held for half of a piece of >= {metrics.HELD_BARS} bars",
    }


def _novelty(pieces: list[Piece], index: metrics.CopyIndex) -> dict[str, Any]:
    copies = {p.name: index.longest_copy(p.melody()) for p in pieces}
    copied = {name: n for name, n in copies.items() if n >= metrics.COPY_NOTES}
    values = list(copies.values())
    return {
        "longest_copy_mean": float(np.mean(values)),
        "longest_copy_max": int(max(values)),
        "copied": len(copied),
        "copied_share": len(copied) / len(pieces),
        "copied_pieces": [{"piece": name, "notes": n} for name, n in copied.items()],
        "copy_threshold": metrics.COPY_NOTES,
    }


# -- text -------------------------------------------------------------------------------------

_STAT_LABELS = {
    "pitch_range": "pitch range (semitones)",
    "mean_duration": "mean note duration (beats)",
    "notes_per_bar": "notes per bar",
    "scale_consistency": "scale consistency",
    "same_pitch_run": "longest run of one pitch (notes)",
}


def render_text(report: dict[str, Any]) -> str:
    """The readable tables `mgen eval` prints: one block per format."""
    lines = []
    ref = report["reference"]
    if ref:
        lines.append(
            f"reference: {ref['source']} ({ref['pieces']} pieces from {ref['files']} files)"
        )
    else:
        lines.append("reference: none (pass --reference for divergence and novelty)")
    for fmt, r in report["formats"].items():
        lines += ["", *_block(fmt, r, bool(ref))]
    return "\n".join(lines)


def _block(fmt: str, r: dict[str, Any], ref: bool) -> list[str]:
    """The table of one format."""
    lines = [
        f"{fmt}: {r['files']} file(s), {r['pieces']} piece(s), {r['notes']:,} notes",
        _row("valid", f"{r['valid']} of {r['files']} ({r['validity']:.0%})"),
    ]
    lines += [f"    {Path(b['file']).name}: {b['reason'][:120]}" for b in r["invalid"][:5]]
    if "stats" not in r:
        return lines
    lines.append(_row("", "samples", "reference" if ref else ""))
    for key, label in _STAT_LABELS.items():
        theirs = f"{r['reference_stats'][key]:.2f}" if ref else ""
        lines.append(_row(label, f"{r['stats'][key]:.2f}", theirs))
    if ref:
        lines.append(_row("pitch-class JSD (0 same, 1 disjoint)", f"{r['pitch_class_jsd']:.3f}"))
        lines.append(_row("  the same, every piece in C/Am", f"{r['pitch_class_jsd_key']:.3f}"))
    rep, n = r["repetition"], r["pieces"]
    lines.append(_row("stuck (one note or cycle <= 4 notes)", _share(rep["stuck"], n)))
    lines.append(_row("looping (tail repeats a cycle 3+ times)", _share(rep["looping"], n)))
    if ref:
        nov = r["novelty"]
        longest = f"mean {nov['longest_copy_mean']:.1f}, max {nov['longest_copy_max']}"
        lines.append(_row("longest copy from reference (notes)", longest))
        label = f"copied (>= {nov['copy_threshold']} notes verbatim)"
        lines.append(_row(label, _share(nov["copied"], n)))
    return lines


def _row(label: str, *values: str) -> str:
    return f"  {label:<42}" + "".join(f"{v:>12}" for v in values).rstrip()


def _share(k: int, n: int) -> str:
    return f"{k} of {n} ({k / n:.0%})"


def evaluate_files(
    paths: Sequence[Path],
    reference: Sequence[str] | None = None,
    reference_limit: int | None = DEFAULT_REFERENCE_LIMIT,
    log: Log = _quiet,
) -> dict[str, Any]:
    """The whole of `mgen eval PATH...`: resolve and read the reference, then judge the files."""
    if reference_limit is not None and reference_limit < 0:
        raise ConfigError("--reference-limit must be >= 0 (0: the whole reference)")
    ref = None
    if reference:
        files = reference_files(reference)
        ref = load_reference(files, reference_limit or None, ", ".join(reference), log)
    return evaluate(paths, ref, log)


def evaluate_run_samples(paths: Sequence[Path], run: Run, log: Log = _quiet) -> dict[str, Any]:
    """`mgen sample --eval`: the files just sampled from `run`, judged against its training
    data (its --data, else its tokenizer's default dataset; at most 200 pieces)."""
    from mgen.core.prepare import corpus_files

    files = [
        f for f in corpus_files(run.tokenizer, run.train_data, progress=False) if reader_for(f)
    ]
    if run.train_data:
        source = ", ".join(run.train_data)
    else:
        source = f"the {run.tokenizer_name} default dataset"
    if not files:
        raise DataError(f"no readable music files in {source}")
    reference = load_reference(files, DEFAULT_REFERENCE_LIMIT, source, log)
    return evaluate(list(dict.fromkeys(map(Path, paths))), reference, log)
