"""The melodic shape of a kern run's samples against its corpus, with more samples than the bench.

    python tools/kern_shape.py palestrina-kern -k 128 --seed 2

Octave leaps are rare (about 1 interval in 100 on Palestrina), so the quality bench's 32 samples
give a noisy rate; this draws `-k` samples of `-n` tokens at temperature 1 (the model's own
distribution) and prints the bench's `melodic_shape` figures for the samples and for 200 corpus
files (the range over the samples' median number of notes), with their ratios.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from mgen.bench.quality import melodic_shape
from mgen.core.prepare import build_tokenizer, corpus_files
from mgen.core.run import load_run
from mgen.evaluate.notes import evenly, read_pieces


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", help="run directory or shipped model name (a kern run)")
    ap.add_argument("-k", type=int, default=128, help="samples")
    ap.add_argument("-n", type=int, default=512, help="tokens per sample")
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--data", nargs="*", default=None, help="corpus (default: the run's)")
    args = ap.parse_args()

    run = load_run(args.run)
    data = args.data or run.train_data or ["palestrina-kern"]
    files = corpus_files(build_tokenizer("kern", {}), data, progress=False)
    reference = [p for f in evenly(files, 200) for p in read_pieces(f)[0]]
    pieces = run.sample(args.n, args.k, "temperature", seed=args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        written = run.write(pieces, Path(tmp) / "samples")
        generated = [p for f in written.paths if f.suffix == ".krn" for p in read_pieces(f)[0]]
    first = int(np.median([len(p) for p in generated]))
    ours, theirs = melodic_shape(generated), melodic_shape(reference, first)
    print(f"{args.k} samples of {args.n} tokens (seed {args.seed}) against 200 files of {data}")
    print(f"{'figure':<44} {'samples':>9} {'corpus':>9} {'ratio':>7}")
    for key, label in (("leaps", "octave-or-wider leaps (share of intervals)"),
                       ("range", f"range of a voice over {first} notes (semitones)"),
                       ("long", "notes longer than 4 quarters (share)")):  # fmt: skip
        ratio = ours[key] / theirs[key] if theirs[key] else float("nan")
        print(f"{label:<44} {ours[key]:>9.4f} {theirs[key]:>9.4f} {ratio:>7.2f}")


if __name__ == "__main__":
    main()
