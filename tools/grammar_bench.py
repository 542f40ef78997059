"""Sampling under the grammar against the raw model, for each shipped model (issue 27's figures).

    python tools/grammar_bench.py                  # every shipped model, 200 samples each way
    python tools/grammar_bench.py -k 1000 -m bach-midi

For each shipped model, each decoder (the default `temperature`, and `argmax`) and each way
(grammar on, off): `-k` samples of `-n` tokens, written and judged file by file with `mgen eval`'s
strict check (`mgen.evaluate.report.check_file`), the share of the model's first choices the
grammar refused, and how many samples the grammar itself would reject (a raw sample that breaks
the format). Then the sampling speed at batch 64 with the grammar and without, `-n` steps with
`<end>` banned so both do the same work, alternated three times and the fastest of each kept:
the ratio is measured side by side in one run.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import torch

from mgen.core.contracts.decoder import build_decoder
from mgen.core.contracts.grammar import grammar_of
from mgen.core.runs.pretrained import names as shipped
from mgen.core.runs.run import load_run
from mgen.core.sampling.engine import GrammarReport, generate
from mgen.evaluate.report import check_file


def judged(run, pieces: list[list[str]], folder: Path) -> tuple[int, int]:
    """(files valid by the strict check, pieces the grammar accepts)."""
    written = run.write(pieces, folder)
    native = [p for p in written.paths if p.suffix == run.tokenizer.format.suffix]
    valid = sum(check_file(p).valid for p in native)
    tok = run.tokenizer
    accepted = sum(grammar_of(tok, tok.vocab, 1).accepts(p) is None for p in pieces)
    return valid, accepted


def quality_rows(run, name: str, k: int, n: int, tmp: Path) -> None:
    for decoder in ("temperature", "argmax"):
        for on in (True, False):
            report = GrammarReport()
            pieces = []
            for start in range(0, k, 64):
                pieces += run.sample(n=n, num_samples=min(64, k - start), decoder=decoder,
                                     seed=start, grammar=on, report=report)  # fmt: skip
            valid, accepted = judged(run, pieces, tmp / f"{name}-{decoder}-{on}")
            refused = f"{report.share():.2%}" if on else "-"
            print(f"| {name} | {decoder} | {'on' if on else 'off'} | {valid}/{k} "
                  f"({valid / k:.0%}) | {accepted}/{k} | {refused} |", flush=True)  # fmt: skip


def speed_ratio(run, n: int) -> tuple[float, float]:
    vocab, dec = run.tokenizer.vocab, build_decoder("temperature")
    times: dict[bool, list[float]] = {True: [], False: []}
    for seed in range(3):
        for on in (False, True):
            rules = grammar_of(run.tokenizer, vocab, 64) if on else None
            t0 = time.perf_counter()
            generate(run.model, [vocab.start_id], steps=n, num_samples=64, decoder=dec,
                     vocab=vocab, seed=seed, stop_at_end=False, grammar=rules)  # fmt: skip
            times[on].append(time.perf_counter() - t0)
    return min(times[False]), min(times[True])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", type=int, default=200, help="samples per model, decoder and way")
    ap.add_argument("-n", type=int, default=400, help="tokens per sample")
    ap.add_argument("-m", "--model", action="append", help="a shipped model (repeatable)")
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}")  # fmt: skip
    names = args.model or sorted(shipped())
    print("| model | decoder | grammar | valid (strict) | grammar accepts | first choice refused |")
    print("|---|---|---|---|---|---|")
    speeds = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            run = load_run(name)
            if not run.has_grammar():
                print(f"| {name} | - | no grammar | - | - | - |")
                continue
            quality_rows(run, name, args.k, args.n, Path(tmp))
            speeds.append((name, *speed_ratio(run, args.n)))
    for name, off, on in speeds:
        print(f"{name}: batch 64 x {args.n} steps: grammar off {off:.2f} s, on {on:.2f} s "
              f"(x{on / off:.3f})")  # fmt: skip


if __name__ == "__main__":
    main()
