"""mgen's MIDI tokenizers against MidiTok's (REMI, TSD, REMI with BPE) on the same files at the
same CPU budget: tokens per note, whole-piece validation loss per note, `mgen eval`'s classifier
on samples, tokenizing speed. The table of docs/tokenizers/comparison.md:

    python tools/compare_tokenizers.py --budget 240 --data bach-midi
    python tools/compare_tokenizers.py --budget 240 --data ../shared/data/piano-midi

Each run trains lstm2 for `--budget` CPU-seconds (all threads), seed 0, on the same split (by
file, same seed). Per note is the fair loss: the encodings spend different numbers of tokens
on a note (tokens per note = val nats per note / val nats per token). The classifier is
`mgen eval`'s two-sample test against the run's own validation pieces (50%: it cannot tell them
apart), on `--samples` samples of about `--notes` notes each (default decoder, seed 1).
Speed: `read` of the first `--speed-files` files by a fresh tokenizer, no cache, one process.
Needs mgen[miditok]. Runs go into a temporary folder (or --keep DIR); the table prints at the end.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SPECS = (
    "midi-notes",
    "midi-tracks",
    "miditok:tokenization=REMI",
    "miditok:tokenization=TSD",
    "miditok:tokenization=REMI,vocab_size=1000",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=240.0, help="CPU-seconds of training a run")
    parser.add_argument("--data", action="append", default=None, help="default: bach-midi")
    parser.add_argument("--tokenizer", dest="specs", action="append", default=[],
                        help="NAME[:KEY=VALUE,...], repeated (default: the five of the table)")  # fmt: skip
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--notes", type=int, default=150, help="about this many notes a sample")
    parser.add_argument("--speed-files", type=int, default=60)
    parser.add_argument("--keep", type=Path, default=None, help="keep the runs in this folder")
    args = parser.parse_args(argv)
    args.model, args.clock, args.options = "lstm2", "cpu", []
    data = args.data or ["bach-midi"]
    with tempfile.TemporaryDirectory(prefix="mgen-compare-tok-") as tmp:
        folder = args.keep or Path(tmp)
        rows = [_measure(spec, args, data, folder) for spec in args.specs or SPECS]
    from mgen.bench.machine import cpu_name

    print(f"lstm2, {args.budget:g} CPU-s each, on {', '.join(data)}; {cpu_name()}\n")
    print("| tokenizer | vocabulary | tokens/note | val nats/note | val nats/token | steps "
          "| classifier | valid | read (files/s) |\n|---|---|---|---|---|---|---|---|---|")  # fmt: skip
    for r in rows:
        print("| {label} | {vocab} | {tpn:.2f} | {nats_note:.4f} | {nats_token:.4f} | {steps:,} "
              "| {classifier} | {valid} | {speed:.1f} |".format(**r))  # fmt: skip
    return 0


def _measure(spec: str, args: argparse.Namespace, data: list[str], folder: Path) -> dict:
    from tools.compare_midi import _run

    label, best, summary = _run(spec, args, data, folder)
    nats_note, nats_token = best.get("val_nats_note", math.nan), best["val_loss"]
    tpn = nats_note / nats_token
    classifier, valid = _judge(folder / label, args.samples, math.ceil(args.notes * tpn))
    return dict(label=label, vocab=summary.get("vocab_size"), tpn=tpn, nats_note=nats_note,
                nats_token=nats_token, steps=best["step"], classifier=classifier, valid=valid,
                speed=_speed(spec, data, args.speed_files))  # fmt: skip


def _judge(run_dir: Path, k: int, n: int) -> tuple[str, str]:
    """The classifier's accuracy on `k` samples of `n` tokens against the run's validation
    pieces, and how many samples were valid."""
    import mgen
    from mgen.api.sampling import sample

    batch = sample(run_dir, n=n, num_samples=k, seed=1, out=run_dir / "compare-samples",
                        force=True)  # fmt: skip
    figures = mgen.judge(batch.paths, run=run_dir).figures["formats"]["midi"]
    acc = figures.get("distinguish", {}).get("accuracy")
    return (f"{100 * acc:.0f}%" if acc is not None else "-"), f"{figures['valid']}/{k}"


def _speed(spec: str, data: list[str], count: int) -> float:
    """Files a second that a fresh tokenizer reads (no cache)."""
    from mgen.cli.common import parse_options
    from mgen.core.data.prepare import build_tokenizer, corpus_files

    name, _, given = spec.partition(":")
    options = parse_options(given.split(","), "--tokenizer") if given else {}
    tok = build_tokenizer(name, options)
    files = corpus_files(tok, data, progress=False)[:count]
    if "vocab_size" in options:  # learn first (what a run does before it reads for training)
        base = build_tokenizer(name, {k: v for k, v in options.items() if k != "vocab_size"})
        tok.learn([p for f in files for p in base.read(f)])
    start = time.process_time()
    for f in files:
        tok.read(f)
    return len(files) / (time.process_time() - start)


if __name__ == "__main__":
    raise SystemExit(main())
