"""Loop guards before and after (docs/evaluation.md, "Decoding that does not loop"): for each
trained run given, greedy decoding from 8 primers (the first tokens of 8 training pieces) and
temperature-1 sampling of 8 pieces, with the 0.1 guards and with today's, judged by `mgen.judge`
against the run's training data:

    python tools/decoding.py RUN [RUN ...] [--length 300]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from mgen.core.contracts.loops import neutral_ids
from mgen.core.contracts.vocabulary import require_vocab

#: (label, decoder, guards, exempt, capped): guards are RepetitionConfig fields (None: today's
#: defaults for that decoder); exempt: holds, rests and time shifts are left alone; capped: but
#: only up to the longest run of them in the training data (`Run.guards`).
SETTINGS = [
    ("argmax, 0.1 guards (penalty 1.3 + 16-gram on every token)", "argmax",
     {"repetition_penalty": 1.3, "no_repeat_ngram": 16}, False, False),
    ("argmax, guards with neutral tokens exempt, uncapped", "argmax", None, True, False),
    ("argmax, today's guards (neutral tokens exempt up to the data's longest run)", "argmax",
     None, True, True),
    ("argmax, no guards", "argmax", {"repetition_penalty": 1.0, "no_repeat_ngram": 0}, True,
     False),
    ("temperature 1, 0.1 guard (16-gram on every token)", "temperature",
     {"no_repeat_ngram": 16}, False, False),
    ("temperature 1, today's (none)", "temperature", None, True, True),
]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--length", type=int, default=300, help="tokens per sample")
    args = parser.parse_args(argv)
    print("| run | setting | valid | stuck | looping | mean note (beats) | notes > 4 beats |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="mgen-decoding-") as tmp:
        for path in args.runs:
            for row in measure(path, args.length, Path(tmp) / path.name):
                print("| " + " | ".join(row) + " |", flush=True)
    return 0


def measure(path: Path, length: int, folder: Path) -> list[list[str]]:
    import mgen
    from mgen.core.data.prepare import run_split

    run = mgen.load_run(path)
    split = run_split(run.config, run.tokenizer, log=lambda _: None)
    primers = [
        split.corpus.piece(int(i))[:12] for i in split.train[:: max(1, len(split.train) // 8)][:8]
    ]
    rows = []
    for i, (label, decoder, guards, exempt, capped) in enumerate(SETTINGS):
        pieces = _sample(run, decoder, guards, exempt, capped, primers, length)
        written = run.write(pieces, folder / f"s{i}")
        native = [
            p for p in written.paths if p.suffix != ".mid" or len(written.paths) == len(pieces)
        ]
        rows.append([run.config["tokenizer"], label, *_figures(mgen.judge(native)), _long(native)])
    return rows


def _sample(run, decoder, guards, exempt, capped, primers, length) -> list[list[str]]:
    from mgen.core.sampling.engine import RepetitionConfig, default_repetition, generate

    rep = RepetitionConfig(**guards) if guards else default_repetition(decoder)
    rep = run.guards(rep) if capped else rep
    vocab = require_vocab(run.tokenizer)
    neutral = neutral_ids(run.tokenizer, vocab) if exempt else []
    from mgen.core.contracts.decoder import build_decoder

    out = []
    starts = primers if decoder == "argmax" else [[]] * 8
    for k, primer in enumerate(starts):
        [ids] = generate(run.model, [vocab.start_id, *vocab.encode(primer)], steps=length,
                         num_samples=1, decoder=build_decoder(decoder), vocab=vocab, seed=k,
                         repetition=rep, neutral=neutral)  # fmt: skip
        out.append(primer + vocab.decode(ids))
    return out


def _figures(report: dict) -> list[str]:
    import numpy as np

    [r] = report["formats"].values()
    rep, n = r.get("repetition", {}), max(1, r["pieces"])
    stats = r.get("stats", {})
    return [
        f"{r['valid']} of {r['files']}",
        f"{rep.get('stuck', 0)} of {n}",
        f"{rep.get('looping', 0)} of {n}",
        f"{stats.get('mean_duration', np.nan):.2f}",
    ]


def _long(files: list[Path]) -> str:
    """Notes longer than 4 quarters in the samples: how many, and the longest (beats)."""
    from mgen.evaluate.notes import read_pieces

    durations = [d for f in files for p in read_pieces(f)[0] for d in p.duration.tolist()]
    long = [d for d in durations if d > 4.0 + 1e-9]
    return f"{len(long)} (longest {max(durations, default=0):.1f})"


if __name__ == "__main__":
    raise SystemExit(main())
