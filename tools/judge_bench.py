#!/usr/bin/env python3
"""Figures of the judge (`mgen eval`) on the real corpora, for docs/performance.md and
docs/evaluation.md: the copy index's build time for a whole training split, validity rates of
real pieces per check, the classifier on corpus halves and on random notes.

    python tools/judge_bench.py            # everything (a few minutes on 2 cores)
    python tools/judge_bench.py --index    # only the copy index of folk-abc

The copy index is built as `mgen sample --eval` builds it: the default run's split of folk-abc
(abc-char's default settings, seed 0, 10% validation) from the token cache, melodies from the
tokenizer's `melody` hook. The first run parses and caches the corpus; the time printed is of a
run that finds the cache (the script builds the index twice and reports the second).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def index_time() -> None:
    from mgen.core.data.prepare import build_tokenizer
    from mgen.evaluate.copies import novelty, training_index

    config = {"tokenizer": "abc-char", "train": {}}
    for attempt in ("first (may parse and cache)", "cached"):
        tok = build_tokenizer("abc-char", {})
        start = time.perf_counter()
        idx = training_index(config, tok, log=lambda _: None)
        total = time.perf_counter() - start
        print(f"copy index, folk-abc, {attempt}: {len(idx.names):,} training pieces, "
              f"{total:.2f} s (split and melodies and index)")  # fmt: skip
    start = time.perf_counter()
    nov = novelty({}, idx)
    print(f"baseline: {len(idx.held)} validation pieces judged in "
          f"{time.perf_counter() - start:.2f} s; longest copy mean "
          f"{nov['corpus_longest_copy_mean']:.1f}, copied {nov['corpus_copied_share']:.1%}")  # fmt: skip


def abc_validity() -> None:
    from mgen.evaluate.validity import abc2midi_errors
    from mgen.formats.abc.check import read, strict_problems, tune_texts
    from mgen.formats.abc.notes import read_text
    from mgen.formats.m21 import corpus_root

    for coll in ("essenFolksong", "oneills1850", "ryansMammoth"):
        n, c = 0, Counter()
        for f in sorted((corpus_root() / coll).glob("*.abc")):
            tunes, starts = tune_texts(read_text(f))
            a2m = abc2midi_errors(f, starts)
            for i, text in enumerate(tunes):
                n += 1
                problems = strict_problems(read(text))
                bars = any(p.startswith("bar ") for p in problems)
                other = any(not p.startswith("bar ") for p in problems)
                c["strict"] += not problems
                c["strict but bar lengths"] += not other
                c["bar lengths"] += bars
                c["abc2midi"] += i not in a2m
                c["all but music21"] += not problems and i not in a2m
        shares = ", ".join(f"{k} {v / n:.1%}" for k, v in c.items() if k != "bar lengths")
        print(f"{coll}: {n} tunes; pass: {shares}; a bar of the wrong length: {c['bar lengths']}")


def kern_midi_validity() -> None:
    from mgen.evaluate.validity import judge
    from mgen.formats.m21 import corpus_files

    sets = [("music21 palestrina+bach **kern", corpus_files(("palestrina", "bach"), ("*.krn",)), "kern")]  # fmt: skip
    if SHARED.is_dir():
        sets.append(("essen-deutschl-kern", sorted((SHARED / "essen-deutschl-kern").rglob("*.krn")), "kern"))  # fmt: skip
        sets.append(("piano-midi", sorted((SHARED / "piano-midi").rglob("*.mid")), "midi"))
    for name, files, kind in sets:
        start = time.perf_counter()
        bad = [f for f in files if any(u.errors for u in judge(f, kind).units)]
        print(f"{name}: {len(files)} files, {1 - len(bad) / len(files):.2%} valid "
              f"({len(bad)} not), {time.perf_counter() - start:.1f} s")  # fmt: skip


def classifier() -> None:
    import numpy as np

    from mgen.evaluate.classify import distinguish
    from mgen.evaluate.notes import read_pieces
    from mgen.formats.m21 import corpus_root
    from mgen.formats.score import make_piece

    real = []
    for name in ("kinder0.abc", "erk5.abc", "ballad10.abc"):
        real += read_pieces(corpus_root() / "essenFolksong" / name, 100)[0]
    rng = np.random.default_rng(0)
    noise = [make_piece(f"r{i}", [(int(p), j / 2, 0.5) for j, p in enumerate(rng.integers(55, 80, 50))], 2.0) for i in range(100)]  # fmt: skip
    for label, a, b in (("corpus odd vs even", real[1::2], real[::2]), ("random notes vs corpus", noise, real)):  # fmt: skip
        d = distinguish(a, b)
        lo, hi = d["ci95"]
        print(f"classifier, {label}: {d['accuracy']:.1%} (95% CI {lo:.1%}-{hi:.1%}), "
              f"{d['pieces_per_side']} a side, p = {d['p_value']:.2g}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", action="store_true", help="only the copy index build time")
    args = parser.parse_args()
    index_time()
    if not args.index:
        abc_validity()
        kern_midi_validity()
        classifier()


if __name__ == "__main__":
    main()
