"""The tables `mgen eval` prints: per format, one row per figure, "samples X, corpus Y".

`rows(report)` gives the rows (label, samples, corpus) that the text and the HTML page share; the
corpus column is the same figure measured on real pieces (`baseline`), "-" without a reference.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mgen.evaluate import metrics

STAT_LABELS = {
    "pitch_range": "pitch range (semitones)",
    "mean_duration": "mean note duration (beats)",
    "notes_per_bar": "notes per bar",
    "scale_consistency": "scale consistency",
    "same_pitch_run": "longest run of one pitch (notes)",
}
DIVERGENCE_LABELS = {
    "pitch_class_jsd": "pitch-class JSD (0 same, 1 disjoint)",
    "pitch_class_jsd_key": "  the same, every piece in C/Am",
    "interval_jsd": "interval JSD",
    "duration_jsd": "duration JSD",
}
FORM_LABELS = {
    "ends_on_tonic": ("ends on the tonic of its key", "share"),
    "bar_fit": ("inner bars as long as the meter", "share"),
    "repeated_sections": ("repeated sections (:| or 2 bars recur)", "share"),
    "phrase_bars": ("mean phrase length (bars)", "number"),
}
Row = tuple[str, str, str]
NONE = "-"


def _pct(x: float | None) -> str:
    return NONE if x is None else f"{x:.0%}"


def _num(x: float | None, digits: int = 2) -> str:
    return NONE if x is None else f"{x:.{digits}f}"


def _share(k: int, n: int) -> str:
    return f"{k} of {n} ({k / n:.0%})"


def rows(r: dict[str, Any], corpus: dict[str, Any] | None) -> list[Row]:
    """Every row of one format's table."""
    c = corpus or {}
    out: list[Row] = [("valid", _share(r["valid"], r["files"]), _pct(c.get("validity")))]
    if "stats" not in r:
        return out
    for key, label in STAT_LABELS.items():
        theirs = c.get("stats", {}).get(key)
        out.append((label, _num(r["stats"][key]), _num(theirs)))
    halves = c.get("divergence") or {}
    for key, label in DIVERGENCE_LABELS.items():
        if key in r:
            out.append((label, _num(r[key], 3), _num(halves.get(key), 3)))
    rep, n, crep = r["repetition"], r["pieces"], c.get("repetition", {})
    out.append(("stuck (one note or cycle <= 4 notes)", _share(rep["stuck"], n), _pct(crep.get("stuck_share"))))  # fmt: skip
    out.append(("looping (tail repeats a cycle 3+ times)", _share(rep["looping"], n), _pct(crep.get("looping_share"))))  # fmt: skip
    cform = c.get("form", {})
    for key, (label, kind) in FORM_LABELS.items():
        show = _pct if kind == "share" else _num
        out.append((label, show(r["form"].get(key)), show(cform.get(key))))
    return out + _novelty_rows(r) + _distinguish_rows(r, c) + _voice_rows(r, c)


def _novelty_rows(r: dict[str, Any]) -> list[Row]:
    nov = r.get("novelty")
    if not nov:
        return []
    longest = f"mean {nov['longest_copy_mean']:.1f}, max {nov['longest_copy_max']}"
    theirs = nov.get("corpus_longest_copy_mean")
    return [
        (
            "longest copy (notes, by interval)",
            longest,
            NONE if theirs is None else f"mean {theirs:.1f}",
        ),  # fmt: skip
        (
            f"copied (>= {nov['copy_threshold']} notes verbatim)",
            _share(nov["copied"], len(nov["pieces"])),
            _pct(nov.get("corpus_copied_share")),
        ),
    ]


def _accuracy(d: dict[str, Any] | None) -> str:
    if not d or d.get("accuracy") is None:
        return NONE
    lo, hi = d["ci95"]
    return f"{d['accuracy']:.0%} ({lo:.0%}-{hi:.0%})"


def _distinguish_rows(r: dict[str, Any], c: dict[str, Any]) -> list[Row]:
    if "distinguish" not in r:
        return []
    return [("classifier accuracy (50% = can't tell)", _accuracy(r["distinguish"]), _accuracy(c.get("distinguish")))]  # fmt: skip


def _voice_rows(r: dict[str, Any], c: dict[str, Any]) -> list[Row]:
    """Music in voices (`voices`): each voice's register, crossings, parallels, the classifier
    per voice; no rows for single-stream music."""
    ours = r.get("voices")
    if not ours:
        return []
    theirs = c.get("voices") or {}
    out: list[Row] = [("voices per piece", _num(ours["voices_per_piece"], 1), _num(theirs.get("voices_per_piece"), 1))]  # fmt: skip
    their_ranks = theirs.get("ranks", [])
    for i, rank in enumerate(ours["ranks"]):
        other = their_ranks[i] if i < len(their_ranks) else None
        name = ((other or {}).get("name") or rank["name"] or "")[:12]  # the corpus's: Soprano
        label = f"voice {rank['voice']}{f' ({name})' if name else ''}: low-high (median)"
        out.append((label, _register(rank), _register(other)))
    out.append(("voice crossings (share of beats)", _pct1(ours["crossings"]), _pct1(theirs.get("crossings"))))  # fmt: skip
    out.append(("parallel fifths per 100 beats", _num(ours["fifths_per_100_beats"]), _num(theirs.get("fifths_per_100_beats"))))  # fmt: skip
    out.append(("parallel octaves per 100 beats", _num(ours["octaves_per_100_beats"]), _num(theirs.get("octaves_per_100_beats"))))  # fmt: skip
    their_split = theirs.get("distinguish", [])
    for i, d in enumerate(ours.get("distinguish", [])):
        other = their_split[i] if i < len(their_split) else None
        out.append((f"classifier, voice {i + 1} alone", _accuracy(d), _accuracy(other)))
    return out


def _register(rank: dict[str, Any] | None) -> str:
    if not rank:
        return NONE
    return f"{rank['lowest']:.1f}-{rank['highest']:.1f} ({rank['median']:.1f})"


def _pct1(x: float | None) -> str:
    return NONE if x is None else f"{x:.1%}"


def render_text(report: dict[str, Any]) -> str:
    """The readable tables `mgen eval` prints: one block per format."""
    lines = []
    ref = report["reference"]
    if ref:
        drawn = ref.get("drawn") or f"{ref['pieces']} pieces from {ref['files']} files"
        folders = ref.get("collections") or {}
        if len(folders) > 1:  # a corpus of several collections: how much of each
            drawn += ": " + ", ".join(f"{n} from {k}" for k, n in folders.items())
        lines.append(
            f"reference: {ref['source']} ({drawn}); corpus column: the same figure on the "
            "reference's pieces (divergences and the classifier: its odd pieces against its "
            "even ones)"
        )
    else:
        lines.append("reference: none (pass --reference for a corpus column, divergence, copies)")
    idx = report.get("copy_index")
    if idx:
        lines.append(
            f"copies: against {idx['pieces']:,} pieces of {idx['source']} "
            f"(index built in {idx['seconds']:.1f} s); corpus column: "
            f"{idx['held_out_pieces']} held-out pieces against "
            f"{idx.get('held_out_against', 'the same index')}"
        )
    for fmt, r in report["formats"].items():
        lines += ["", *_block(fmt, r, report.get("corpus"))]
    return "\n".join(lines)


def _block(fmt: str, r: dict[str, Any], corpus: dict[str, Any] | None) -> list[str]:
    lines = [f"{fmt}: {r['files']} file(s), {r['pieces']} piece(s), {r['notes']:,} notes"]
    lines.append("  checks: " + "; ".join(r.get("checks", [])))
    table = rows(r, corpus)
    lines.append(_row("", "samples", "corpus"))
    lines.append(_row(*table[0]))
    lines += [f"    {Path(b['file']).name}: {b['reason'][:150]}" for b in r["invalid"][:5]]
    lines += [_row(*row) for row in table[1:]]
    nov = r.get("novelty")
    if nov:
        copied = [p for p in nov["pieces"] if p["notes"] >= metrics.COPY_NOTES]
        for p in copied[:8]:
            lines.append(
                f"    {Path(p['piece']).name}: {p['notes']} notes copied from {p['source']}"
            )
    dist = r.get("distinguish") or {}
    for g in dist.get("giveaways", [])[:3]:
        lines.append(
            f"    gives samples away: {g['feature']} (samples {g['samples_mean']:.3f}, "
            f"corpus {g['corpus_mean']:.3f})"
        )
    return lines


def _row(label: str, *values: str) -> str:
    return f"  {label:<42}" + "".join(f"{v:>18}" for v in values).rstrip()
