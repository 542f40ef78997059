"""`mgen eval ... --html report.html`: one self-contained page with the table and the pictures.

Everything is inline (PNG images as data: URIs, CSS in the page, no script, nothing fetched): the
"samples X, corpus Y" table of every format, histograms of samples against the corpus (pitch
classes, melodic intervals, note durations; each normalized to shares), the copies and the
classifier's giveaways, and a piano roll of each of the first 8 samples (matplotlib).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mgen.core.contracts.io import write_text
from mgen.evaluate.notes import read_pieces
from mgen.evaluate.render import piano_roll
from mgen.evaluate.text import rows

PIANO_ROLLS = 8
_NOTES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
_CSS = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{padding:3px 10px;border-bottom:1px solid #ddd}
td.n{text-align:right;font-variant-numeric:tabular-nums}small{color:#666}img{max-width:100%}"""


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> str:
    """An <img> holding the figure as an inline PNG; the figure is closed."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=90)
    finally:
        _plt().close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="figure" src="data:image/png;base64,{data}">'


def histogram_figure(fmt: str, samples: dict[str, Any], corpus: dict[str, Any] | None):
    """Three panels: pitch classes, intervals, durations; samples beside the corpus."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.2))
    panels = [
        ("pitch_classes", "pitch class", _NOTES),
        ("intervals", "melodic interval (semitones)", [str(i) for i in range(-13, 14)]),
        ("durations", "note duration (beats)", [f"{2.0**k:g}" for k in range(-4, 4)]),
    ]
    for ax, (key, title, labels) in zip(axes, panels, strict=True):
        x = np.arange(len(labels))
        for offset, name, data in ((-0.2, "samples", samples), (0.2, "corpus", corpus)):
            counts = np.asarray((data or {}).get(key) or [], dtype=float)
            if counts.sum() > 0:
                ax.bar(x + offset, counts / counts.sum(), width=0.4, label=name)
        step = 1 if len(labels) <= 12 else 4
        ax.set_xticks(x[::step])
        ax.set_xticklabels(labels[::step], fontsize=8)
        ax.set_title(f"{fmt}: {title}", fontsize=10)
        ax.set_ylabel("share")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def piano_roll_figure(files: Sequence[Path], limit: int = PIANO_ROLLS):
    """Piano rolls of the first piece of each of the first `limit` readable files (one per
    stem), or None."""
    pieces, seen = [], set()
    for f in files:
        if (Path(f).parent, Path(f).stem) in seen:
            continue  # a sample written natively and as MIDI is drawn once
        seen.add((Path(f).parent, Path(f).stem))
        found, _ = read_pieces(Path(f), limit=1)
        pieces += [(Path(f).name, p) for p in found[:1] if len(p)]
        if len(pieces) == limit:
            break
    if not pieces:
        return None
    plt = _plt()
    fig, axes = plt.subplots(len(pieces), 1, figsize=(12, 2.4 * len(pieces)), squeeze=False)
    for ax, (name, piece) in zip(axes[:, 0], pieces, strict=True):
        piano_roll(ax, piece, name)
    fig.tight_layout()
    return fig


def _table(fmt: str, r: dict[str, Any], corpus: dict[str, Any] | None) -> str:
    body = "".join(
        f"<tr><td>{html.escape(a)}</td><td class=n>{html.escape(b)}</td>"
        f"<td class=n>{html.escape(c)}</td></tr>"
        for a, b, c in rows(r, corpus)
    )
    head = "<tr><th></th><th>samples</th><th>corpus</th></tr>"
    checks = html.escape("; ".join(r.get("checks", [])))
    return f"<table>{head}{body}</table><p><small>checks: {checks}</small></p>"


def _details(r: dict[str, Any]) -> str:
    items = [
        f"<li>{html.escape(Path(b['file']).name)}: invalid: {html.escape(b['reason'][:300])}</li>"
        for b in r["invalid"][:20]
    ]
    for p in (r.get("novelty") or {}).get("pieces", []):
        src = f" from {html.escape(p['source'])}" if p["source"] else ""
        items.append(f"<li>{html.escape(Path(p['piece']).name)}: longest copy {p['notes']} notes{src}</li>")  # fmt: skip
    for g in (r.get("distinguish") or {}).get("giveaways", []):
        items.append(
            f"<li>gives samples away: {html.escape(g['feature'])} (samples "
            f"{g['samples_mean']:.3f}, corpus {g['corpus_mean']:.3f})</li>"
        )
    return f"<ul>{''.join(items)}</ul>" if items else ""


def page(report: dict[str, Any], files: Sequence[Path]) -> str:
    """The whole page as one string."""
    corpus = report.get("corpus")
    ref = report.get("reference")
    parts = [
        "<!doctype html><html><head><meta charset=utf-8><title>mgen eval</title>",
        f"<style>{_CSS}</style></head><body><h1>mgen eval</h1>",
        f"<p>reference: {html.escape(ref['source']) if ref else 'none'}; "
        f"{len(files)} file(s) judged.</p>",
    ]
    for fmt, r in report["formats"].items():
        parts += [f"<h2>{html.escape(fmt)}</h2>", _table(fmt, r, corpus), _details(r)]
        if "form" in r:
            parts.append(_png(histogram_figure(fmt, r["form"], (corpus or {}).get("form"))))
    rolls = piano_roll_figure(files)
    if rolls is not None:
        parts += [f"<h2>Piano rolls of the first {PIANO_ROLLS} samples</h2>", _png(rolls)]
    return "\n".join([*parts, "</body></html>"])


def write_html(report: dict[str, Any], files: Sequence[Path], out: Path) -> Path:
    """Write the page to `out` (atomically)."""
    return write_text(Path(out), page(report, files))
