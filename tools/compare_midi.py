"""midi-notes against midi-chords on the same MIDI files at the same training budget: lstm2
trained once with each tokenizer, both scored on the same whole validation pieces (the split is
by file, with the same seed, so both hold out the same files). Per note is the fair figure: the
two encodings spend different numbers of tokens on a note. midi-chords scores its rare chords
as one class, `<unk>` (the `val <unk>` column), which flatters its loss. Run on a quiet machine:

    python tools/compare_midi.py --budget 600 [--data ../shared/data/piano-midi] [--clock wall]

(the issue 14 target: at 600 s each, midi-notes' validation nats per note is below midi-chords').
Other tokenizers and settings: `--tokenizer midi-tracks --tokenizer midi-tracks:timing=bars`
(NAME[:KEY=VALUE,...], repeated; issue 28's shifts-against-bars figure, docs/tokenizers/midi-tracks.md).
Each run goes into a temporary folder (or --keep DIR); the table prints at the end (Markdown).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOKENIZERS = ("midi-notes", "midi-chords")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=600.0, help="seconds of training a run")
    parser.add_argument("--clock", default="wall", help="wall or cpu (seconds of all threads)")
    parser.add_argument("--data", action="append", default=None,
                        help="files, folders or datasets (default: ../shared/data/piano-midi)")  # fmt: skip
    parser.add_argument("--model", default="lstm2")
    parser.add_argument("--keep", type=Path, default=None, help="keep the runs in this folder")
    parser.add_argument(
        "-T",
        dest="options",
        action="append",
        default=[],
        help="a midi-notes setting KEY=VALUE, e.g. velocities=8",
    )
    parser.add_argument("--tokenizer", dest="specs", action="append", default=[],
                        help="NAME[:KEY=VALUE,...] instead of midi-notes and midi-chords")  # fmt: skip
    args = parser.parse_args(argv)
    data = args.data or [str(REPO.parent / "shared" / "data" / "piano-midi")]
    with tempfile.TemporaryDirectory(prefix="mgen-compare-midi-") as tmp:
        folder = args.keep or Path(tmp)
        rows = [_run(name, args, data, folder) for name in args.specs or TOKENIZERS]
    print(f"lstm2, {args.budget:g} s ({args.clock} clock) each, on {', '.join(data)}\n")
    print("| tokenizer | val nats/note | val nats/token | val <unk> | val pieces | val tokens "
          "| vocabulary | steps | training tokens |\n|---|---|---|---|---|---|---|---|---|")  # fmt: skip
    for name, best, summary in rows:
        print(f"| {name} | {best.get('val_nats_note', float('nan')):.4f} | "
              f"{best['val_loss']:.4f} | {100 * best.get('val_unk', 0.0):.2f}% | "
              f"{summary.get('val_pieces')} | "
              f"{summary.get('val_tokens', 0):,} | {summary.get('vocab_size')} | {best['step']:,} "
              f"| {best['tokens']:,} |")  # fmt: skip
    if args.specs:
        return 0
    notes, chords = (r[1].get("val_nats_note", float("nan")) for r in rows)
    verdict = "lower" if notes < chords else "not lower"
    print(f"\nmidi-notes per note: {notes:.4f} vs midi-chords {chords:.4f}: {verdict}")
    return 0


def _run(name: str, args: argparse.Namespace, data: list[str], folder: Path):
    """Train one run; (tokenizer, best metrics row, config.json's data summary)."""
    import mgen
    from mgen.cli.common import parse_options
    from mgen.core.training.history import read_metrics

    options = parse_options(args.options, "-T") if name == "midi-notes" else {}
    if ":" in name:
        name, given = name.split(":", 1)
        options = parse_options(given.split(","), "--tokenizer")
    t0 = time.perf_counter()
    label = "-".join([name, *(f"{k}={v}" for k, v in options.items())])
    run = mgen.train(tokenizer=name, model=args.model, data=data, time_budget=args.budget,
                     clock=args.clock, out=folder / label, seed=0,
                     tokenizer_options=options)  # fmt: skip
    rows = [r for r in read_metrics(run.path) if isinstance(r.get("val_loss"), float)]
    best = min(rows, key=lambda r: r["val_loss"])
    summary = json.loads((run.path / "config.json").read_text())["data"]
    print(f"{label}: {best} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    return label, best, summary


if __name__ == "__main__":
    raise SystemExit(main())
