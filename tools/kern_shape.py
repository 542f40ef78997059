"""The melodic shape of a kern run's samples against its corpus, with more samples than the bench.

    python tools/kern_shape.py palestrina-kern -k 128 --seed 2
    python tools/kern_shape.py palestrina-kern --calibration 60   # predicted vs actual leaps

Octave leaps are rare (about 1 interval in 100 on Palestrina), so the quality bench's 32 samples
give a noisy rate; this draws `-k` samples of `-n` tokens at temperature 1 (the model's own
distribution) and prints the bench's `melodic_shape` figures for the samples and for 200 corpus
files (the range over the samples' median number of notes), with their ratios.
`--calibration N` also scores the voices of N corpus files and the samples: at every note after
the first, the model's probability that the note leaps an octave or more (among its pitch
choices) against whether it did.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

from mgen.bench.quality import shape_against_corpus
from mgen.core.contracts.vocabulary import require_vocab
from mgen.core.data.prepare import build_tokenizer, corpus_files
from mgen.core.runs.run import load_run
from mgen.evaluate.notes import evenly


def leap_calibration(run, pieces: list[list[str]]) -> tuple[int, float, int]:
    """(note onsets after the first, expected octave leaps under the model, actual leaps)."""
    vocab = require_vocab(run.tokenizer)
    pitch_ids = [i for i, t in enumerate(vocab.tokens) if t.isdigit()]
    pitch_of = torch.tensor([int(vocab.tokens[i]) for i in pitch_ids])
    onsets, expected, actual = 0, 0.0, 0
    for tokens in pieces:
        ids = [vocab.start_id, *vocab.encode(tokens)]
        with torch.inference_mode():
            logits, _ = run.model(torch.tensor([ids], device=run.device))
        probs = torch.softmax(logits[0].float(), -1).cpu()  # [T, V]: row t predicts ids[t + 1]
        prev = None
        for t, nxt in enumerate(tokens):
            if not nxt.isdigit():
                continue
            if prev is not None:
                p = probs[t, pitch_ids] / probs[t, pitch_ids].sum()  # among the pitches
                expected += float(p[(pitch_of - prev).abs() >= 12].sum())
                actual += abs(int(nxt) - prev) >= 12
                onsets += 1
            prev = int(nxt)
    return onsets, expected, actual


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", help="run directory or shipped model name (a kern run)")
    ap.add_argument("-k", type=int, default=128, help="samples")
    ap.add_argument("-n", type=int, default=512, help="tokens per sample")
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--data", nargs="*", default=None, help="corpus (default: the run's)")
    ap.add_argument("--calibration", type=int, default=0, help="also score N corpus files")
    args = ap.parse_args()

    run = load_run(args.run)
    data = args.data or run.train_data or ["palestrina-kern"]
    pieces = run.sample(args.n, args.k, "temperature", seed=args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        written = run.write(pieces, Path(tmp) / "samples")
        krn = [f for f in written.paths if f.suffix == ".krn"]
        ours, theirs, first = shape_against_corpus(krn, data)
    print(f"{args.k} samples of {args.n} tokens (seed {args.seed}) against 200 files of {data}")
    print(f"{'figure':<44} {'samples':>9} {'corpus':>9} {'ratio':>7}")
    for key, label in (("leaps", "octave-or-wider leaps (share of intervals)"),
                       ("range", f"range of a voice over {first} notes (semitones)"),
                       ("long", "notes longer than 4 quarters (share)")):  # fmt: skip
        ratio = ours[key] / theirs[key] if theirs[key] else float("nan")
        print(f"{label:<44} {ours[key]:>9.4f} {theirs[key]:>9.4f} {ratio:>7.2f}")
    if args.calibration:
        files = corpus_files(build_tokenizer("kern", {}), data, progress=False)
        voices = [t for f in evenly(files, args.calibration) for t in run.tokenizer.read(f)]
        for name, group in ((f"{args.calibration} corpus files", voices), ("samples", pieces)):
            n, expected, actual = leap_calibration(run, group)
            print(f"octave leaps in {name}: {actual} of {n} notes ({actual / n:.4f}); "
                  f"the model expected {expected:.1f} ({expected / n:.4f})")  # fmt: skip


if __name__ == "__main__":
    main()
