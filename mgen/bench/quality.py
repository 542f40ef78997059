"""`mgen bench -s quality`: what the model learns, not how fast. lstm2 is trained for the same
CPU-time budget twice on each corpus, the 0.1 way (shuffled windows from a zero state,
constant learning rate) and with today's defaults (lanes of 64-token windows, the state carried
within each piece), and both are scored on the same whole validation pieces. Then 32 samples
of the new model are judged by `mgen eval` against the corpus; for **kern also the melodic
shape (octave leaps, range of a voice, long notes) of samples against the corpus.

Not in the default set of sections: it trains for `quality_budget` seconds six times (both
recipes on three corpora) and today's recipe once on palestrina-kern, kern's default data, for
as long as `mgen train --tokenizer kern` does, for its melodic shape; plus parsing a corpus the
first time. `--quick` runs it in seconds on tiny
budgets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mgen.bench.common import fig

#: The 0.1 recipe, as TrainConfig overrides of today's defaults.
OLD = {"batching": "windows", "seq_len": 128, "lr_schedule": "constant", "warmup_steps": 0}
SAMPLES = 32
#: Samples behind the kern shape figures: octave leaps are about 1 interval in 90, so 32
#: samples give a figure with some 12% of sampling noise; 128 give about 6%.
SHAPE_SAMPLES = 128


@dataclass
class Corpus:
    label: str
    tokenizer: str
    data: list[str]  # files, folders or dataset names
    length: int  # tokens per sample
    compare: bool = True  # train the 0.1 recipe too
    default_length: bool = False  # train for the tokenizer's default time, not the bench's


def corpora(b) -> list[Corpus]:
    """folk-abc (the built-in default) and the two ../shared/data sets when present."""
    shared = Path(b.cfg.shared_data)
    out = [
        Corpus("folk-abc", "abc-char", ["folk-abc"], 500),
        # kern's default data: the melodic shape of `mgen train --tokenizer kern` (new only)
        Corpus("palestrina-kern", "kern", ["palestrina-kern"], 512, False, default_length=True),
    ]
    for folder, tok, length in (
        ("essen-deutschl-kern", "kern", 256),
        ("piano-midi", "midi-notes", 600),
    ):
        if (shared / folder).is_dir():
            out.append(Corpus(folder, tok, [str(shared / folder)], length))
        else:
            b.add("quality", folder, "absent", f"no {shared / folder}")
    return out


def quality(b) -> None:
    for corpus in corpora(b):
        if b.cfg.quick:
            corpus = _tiny(b, corpus)
        recipes = (("0.1", OLD), ("new", {})) if corpus.compare else (("new", {}),)
        runs = {name: _train(b, corpus, name, over) for name, over in recipes}
        for name, run in runs.items():
            best = _best(run.path)
            per_note = best.get("val_nats_note")
            note = f"{fig(per_note)} nats/note; " if isinstance(per_note, float) else ""
            b.add("quality", f"{corpus.label}: lstm2, {_describe(name)}",
                  f"{best['val_loss']:.4f} nats/token",
                  f"{note}{best['step']:,} steps, {best['tokens']:,} tokens in "
                  f"{_length(b, corpus)}")  # fmt: skip
        _judge(b, corpus, runs["new"])


def _describe(name: str) -> str:
    if name == "0.1":
        return "0.1 (shuffled 128-token windows, zero state)"
    return "new default (64-token windows, state carried across lanes)"


def _tiny(b, corpus: Corpus) -> Corpus:
    """--quick: eight files of the corpus."""
    from mgen.core.data.prepare import build_tokenizer, corpus_files

    files = corpus_files(build_tokenizer(corpus.tokenizer, {}), corpus.data, progress=False)
    return Corpus(
        corpus.label, corpus.tokenizer, [str(f) for f in files[:: max(1, len(files) // 8)][:8]], 40
    )


def _as_default(b, corpus: Corpus) -> bool:
    return corpus.default_length and not b.cfg.quick


def _length(b, corpus: Corpus) -> str:
    if not _as_default(b, corpus):
        return f"{fig(b.quality_budget)} CPU-s"
    from mgen.core.contracts import registry

    seconds = registry.load("tokenizer", corpus.tokenizer).recipe.time_budget
    return f"{fig(seconds)} s on the clock (`mgen train`'s default length)"


def _train(b, corpus: Corpus, name: str, overrides: dict[str, Any]):
    """lstm2 for the bench's CPU budget; or, for `default_length`, exactly as `mgen train
    --tokenizer T --model lstm2` trains with no length given (its default time on the clock)."""
    import mgen

    out = _folder(b) / f"{corpus.label}-{name}"
    options = {"hidden_size": 32, "embed_dim": 16} if b.cfg.quick else {}
    length = {} if _as_default(b, corpus) else {"time_budget": b.quality_budget, "clock": "cpu"}
    return mgen.train(tokenizer=corpus.tokenizer, model="lstm2", data=corpus.data, out=out,
                      device=str(b.device), seed=0, model_options=options,
                      **length, **overrides)  # fmt: skip


def _folder(b) -> Path:
    """Where the runs go: --keep DIR, else the bench's temporary folder."""
    return Path(b.cfg.keep) if b.cfg.keep else b.tmp / "quality"


def _best(run: Path) -> dict[str, Any]:
    from mgen.core.training.history import read_metrics

    rows = [r for r in read_metrics(run) if isinstance(r.get("val_loss"), float)]
    return min(rows, key=lambda r: r["val_loss"])


def _judge(b, corpus: Corpus, run) -> None:
    """32 samples (temperature 1: the model's own distribution) judged against the corpus."""
    import mgen

    pieces = run.sample(corpus.length, SAMPLES, "temperature", seed=1)
    written = run.write(pieces, _folder(b) / f"{corpus.label}-samples")
    report = mgen.judge(written.paths, reference=corpus.data, reference_limit=200)
    for fmt, r in report["formats"].items():
        rep, nov = r.get("repetition", {}), r.get("novelty", {})
        b.add("quality", f"{corpus.label}: {SAMPLES} samples, {fmt}",
              f"{r['valid']} of {r['files']} valid",
              f"stuck {rep.get('stuck', '?')}, looping {rep.get('looping', '?')}, longest copy "
              f"max {nov.get('longest_copy_max', '?')} notes (mean "
              f"{fig(nov.get('longest_copy_mean', 0.0))})")  # fmt: skip
    if corpus.tokenizer == "kern":
        count = SAMPLES if b.cfg.quick else SHAPE_SAMPLES
        pieces = run.sample(corpus.length, count, "temperature", seed=2)
        written = run.write(pieces, _folder(b) / f"{corpus.label}-shape-samples")
        _shape(b, corpus, [p for p in written.paths if p.suffix == ".krn"], count)


def _shape(b, corpus: Corpus, samples: list[Path], count: int) -> None:
    """Octave leaps, a voice's range and notes over 4 quarters of `count` samples (temperature
    1, seed 2, as `tools/kern_shape.py`) against the corpus."""
    ours, theirs, first = shape_against_corpus(samples, corpus.data)
    for key, label in (("leaps", "octave-or-wider leaps (share of intervals)"),
                       ("range", f"range of a voice over {first} notes (semitones, mean)"),
                       ("long", "notes longer than 4 quarters (share)")):  # fmt: skip
        ratio = ours[key] / theirs[key] if theirs[key] else float("nan")
        b.add("quality", f"{corpus.label}: {label}", f"{count} samples {fig(ours[key])}",
              f"corpus {fig(theirs[key])}; ratio {fig(ratio)}")  # fmt: skip


def shape_against_corpus(
    samples: list[Path], data: list[str], files: int = 200
) -> tuple[dict[str, float], dict[str, float], int | None]:
    """`melodic_shape` of the .krn `samples` and of `files` files of the kern corpus `data`,
    and the number of notes the corpus's range was taken over (the samples' median length)."""
    from mgen.core.data.prepare import build_tokenizer, corpus_files
    from mgen.evaluate.notes import evenly, read_pieces

    found = corpus_files(build_tokenizer("kern", {}), data, progress=False)
    reference = [p for f in evenly(found, files) for p in read_pieces(f)[0]]
    generated = [p for f in samples for p in read_pieces(f)[0]]
    # A voice's range grows with its length: the corpus's is taken over as many notes.
    first = int(np.median([len(p) for p in generated])) if generated else None
    return melodic_shape(generated), melodic_shape(reference, first), first


def melodic_shape(pieces, first: int | None = None) -> dict[str, float]:
    """Share of melodic intervals of an octave or more, mean pitch range per piece (over its
    `first` notes when given), share of notes longer than 4 quarters, over the top line of
    each piece."""
    intervals = np.concatenate([np.abs(np.diff(p.melody())) for p in pieces if len(p) > 1] or [[]])
    ranges = [int(np.ptp(p.pitch[:first])) for p in pieces if len(p)]
    durations = np.concatenate([p.duration for p in pieces] or [[]])
    return {
        "leaps": float((intervals >= 12).mean()) if len(intervals) else 0.0,
        "range": float(np.mean(ranges)) if ranges else 0.0,
        "long": float((durations > 4.0 + 1e-9).mean()) if len(durations) else 0.0,
    }


def user_cache(b) -> str:
    """The user's own corpus cache: parsing the Essen set once is minutes, not every bench."""
    return b.user_env.get("MGEN_CACHE_DIR") or os.environ.get("MGEN_CACHE_DIR", "")
