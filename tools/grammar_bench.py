"""Sampling under the grammar against the raw model, for each shipped model (issue 27's figures).

    python tools/grammar_bench.py                  # every shipped model, 200 samples each way
    python tools/grammar_bench.py -k 1000 -m folk-abc
    python tools/grammar_bench.py --corpus         # abc-char's grammar over all of folk-abc
    python tools/grammar_bench.py --speed          # the sampling speed rows alone

For each shipped model, each decoder (the default `temperature`, and `argmax`) and each way
(grammar on, off): `-k` samples of `-n` tokens (argmax: 64 where every one is the same, as
greedy decoding from an empty primer gives), written and judged by `mgen eval --run MODEL`
(`evaluate_run_samples`: its strict check file by file, and its classifier's accuracy against
500 pieces of the run's validation split), the share of the model's first choices the grammar refused, and
how many samples the grammar itself would reject (a raw sample that breaks the format). For ABC,
also: the share abc2midi reads without any "Error" line (its false alarms counted too), and the
share that ends with a bar line (or, Essen's style, at the end of a complete bar). Then the
sampling speed at batch 64 with the grammar and without, `-n` steps with `<end>` banned so both
do the same work, alternated three times and the fastest of each kept: the ratio is measured
side by side in one run (the first run with the grammar, whose caches start empty, is printed
too).

`--corpus` reads every tune of abc-char's default dataset: the tunes the strict judge accepts,
the rules of the grammar some of them break (`abc_grammar_check.beyond_judge`), and whether the
grammar accepts each of the rest character by character (it should accept them all).
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from collections import Counter
from pathlib import Path

import torch

from mgen.core.contracts.decoder import build_decoder
from mgen.core.contracts.grammar import grammar_of
from mgen.core.runs.pretrained import names as shipped
from mgen.core.runs.run import load_run
from mgen.core.sampling.engine import GrammarReport, generate
from mgen.evaluate.report import evaluate

#: Reference pieces (of the run's validation split) the classifier tells the samples from.
REFERENCE = 500

ABC_HEAD = (
    "| model | decoder | grammar | abc2midi error-free | ... its false alarms aside "
    "| ends with a bar line | ends at a bar's end |"
)


def _quiet(message: str) -> None:
    pass


def judge_for(run, limit: int = REFERENCE):
    """`mgen eval --run`'s judge of a run's samples (`evaluate_run_samples`), built once: its
    reference (`limit` pieces of the run's validation split) and copy index."""
    from mgen.core.data.prepare import run_split
    from mgen.evaluate import copies
    from mgen.evaluate.report import Judge, split_reference

    tok = run.tokenizer
    split = run_split(run.config, tok, log=_quiet)
    ref = split_reference(split, tok, limit, f"{limit} pieces of the validation split")
    return Judge(ref, copies.training_index(run.config, tok, _quiet, split), tok)


def judged(run, judge, pieces: list[list[str]], folder: Path) -> dict:
    """`mgen eval --run` of the written pieces: valid files, classifier accuracy; and how many
    pieces the grammar accepts."""
    written = run.write(pieces, folder)
    native = [p for p in written.paths if p.suffix == run.tokenizer.format.suffix]
    report = evaluate(native, judge.reference, judge_with=judge)
    (figures,) = report["formats"].values()
    tok = run.tokenizer
    accepted = sum(grammar_of(tok, tok.vocab, 1).accepts(p) is None for p in pieces)
    return {"valid": figures["valid"], "distinguish": figures.get("distinguish") or {},
            "accepted": accepted, "files": native}  # fmt: skip


def _accuracy(d: dict) -> str:
    if d.get("accuracy") is None:
        return "-"
    lo, hi = d["ci95"]
    return f"{d['accuracy']:.0%} ({lo:.0%}-{hi:.0%})"


def abc2midi_clean(files: list[Path]) -> tuple[int, int]:
    """(files abc2midi reads without an "Error" line, files without one once the judge's
    false alarms are set aside)."""
    from mgen.evaluate.validity import ABC2MIDI_FALSE_ALARMS
    from mgen.formats.abc import check

    raw = [sum(check.abc2midi_errors(f, [1]).values(), []) for f in files]
    kept = [[e for e in r if not any(a in e for a in ABC2MIDI_FALSE_ALARMS)] for r in raw]
    return sum(not r for r in raw), sum(not k for k in kept)


def abc_figures(files: list[Path]) -> tuple[int, int, int, int]:
    """(abc2midi clean, clean but for false alarms, ends with a bar line, ends at the end of
    a complete bar)."""
    from mgen.formats.abc import check

    tunes = [check.read(f.read_text()) for f in files]
    barred = sum(t.ends_with_bar for t in tunes)
    return (*abc2midi_clean(files), barred, sum(check.ending_problem(t) is None for t in tunes))


def quality_rows(run, name: str, k: int, n: int, tmp: Path, ways=(True, False)) -> list[str]:
    """Prints the table's rows; returns ABC's extra rows."""
    extra, judge = [], judge_for(run)
    for decoder in ("temperature", "argmax"):
        for on in ways:
            report = GrammarReport()
            pieces = []
            for start in range(0, k, 64):
                pieces += run.sample(n=n, num_samples=min(64, k - start), decoder=decoder,
                                     seed=start, grammar=on, report=report)  # fmt: skip
                if decoder == "argmax" and len({tuple(p) for p in pieces}) == 1:
                    break  # greedy from an empty primer: every sample the same, judged as 64
            got = judged(run, judge, pieces, tmp / f"{name}-{decoder}-{on}")
            way, valid, m = "on" if on else "off", got["valid"], len(pieces)
            refused = f"{report.share():.2%}" if on else "-"
            distinct = len({tuple(p) for p in pieces})
            print(f"| {name} | {decoder} | {way} | {valid}/{m} ({valid / m:.0%}) | "
                  f"{got['accepted']}/{m} | {refused} | {_accuracy(got['distinguish'])} | "
                  f"{distinct} |", flush=True)  # fmt: skip
            if run.tokenizer.format.suffix == ".abc":
                cells = " | ".join(f"{x}/{m} ({x / m:.0%})" for x in abc_figures(got["files"]))
                extra.append(f"| {name} | {decoder} | {way} | {cells} |")
    return extra


def speed_ratio(run, n: int) -> tuple[float, float, float]:
    """(fastest without the grammar, fastest with it, the first run with it) in seconds."""
    vocab, dec = run.tokenizer.vocab, build_decoder("temperature")
    times: dict[bool, list[float]] = {True: [], False: []}
    for seed in range(3):
        for on in (False, True):
            rules = grammar_of(run.tokenizer, vocab, 64) if on else None
            t0 = time.perf_counter()
            generate(run.model, [vocab.start_id], steps=n, num_samples=64, decoder=dec,
                     vocab=vocab, seed=seed, stop_at_end=False, grammar=rules)  # fmt: skip
            times[on].append(time.perf_counter() - t0)
    return min(times[False]), min(times[True]), times[True][0]


def corpus_check() -> None:
    """abc-char's grammar over every tune of its default dataset."""
    from mgen.core.data.prepare import dataset_files
    from mgen.formats.abc.check import strict_problems
    from mgen.formats.abc.read import read_tune
    from mgen.plugins.tokenizers.abc_grammar_check import beyond_judge

    tok = load_run("folk-abc").tokenizer
    tunes = [t for f in dataset_files("folk-abc", progress=False) for t in tok.read(f)]
    judged_ = [t for t in tunes if not strict_problems(read_tune(tok.text(t)))]
    reasons: Counter[str] = Counter()
    clean, refused = 0, []
    for t in judged_:
        found = beyond_judge(tok.text(t))
        reasons.update(found)
        if found:
            continue
        clean += 1
        at = grammar_of(tok, tok.vocab, 1).accepts(t)
        if at is not None:
            refused.append("".join(t[max(0, at - 30) : at]) + "⟦" + "".join(t[at : at + 5]))
    print(f"folk-abc: {len(tunes)} tunes, {len(judged_)} the strict judge accepts, {clean} of "
          f"them keep the grammar's rules, {clean - len(refused)} accepted by the grammar")  # fmt: skip
    for reason, count in reasons.most_common():
        print(f"  {count} break: {reason}")
    for r in refused:
        print(f"  refused: {r!r}")
    corpus_abc2midi(tok, judged_)


def corpus_abc2midi(tok, tunes: list[list[str]]) -> None:
    """The share of the judged tunes abc2midi reads without an Error line: the corpus's own."""
    with tempfile.TemporaryDirectory() as tmp:
        files = [tok.write(t, Path(tmp) / f"t{i}") for i, t in enumerate(tunes)]
        raw, kept = abc2midi_clean(files)
    n = len(tunes)
    print(f"  abc2midi: {raw}/{n} ({raw / n:.0%}) without an Error line, {kept}/{n} "
          f"({kept / n:.0%}) once the judge's false alarms are set aside")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", type=int, default=200, help="samples per model, decoder and way")
    ap.add_argument("-n", type=int, default=400, help="tokens per sample")
    ap.add_argument("-m", "--model", action="append", help="a shipped model (repeatable)")
    ap.add_argument("--corpus", action="store_true", help="abc-char's grammar over folk-abc")
    ap.add_argument("--speed", action="store_true", help="the speed rows only")
    ap.add_argument("--on-only", action="store_true", help="only with the grammar (the raw "
                    "model's rows do not change with it)")  # fmt: skip
    args = ap.parse_args()
    if args.corpus:
        return corpus_check()
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}")  # fmt: skip
    names = args.model or sorted(shipped())
    print("| model | decoder | grammar | valid (strict) | grammar accepts | first choice refused "
          "| classifier accuracy | distinct |\n|---|---|---|---|---|---|---|---|")  # fmt: skip
    speeds, extra = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            run = load_run(name)
            if not run.has_grammar():
                print(f"| {name} | - | no grammar | - | - | - | - | - |")
                continue
            if not args.speed:
                ways = (True,) if args.on_only else (True, False)
                extra += quality_rows(run, name, args.k, args.n, Path(tmp), ways)
            speeds.append((name, *speed_ratio(run, args.n)))
    if extra:
        print(f"\n{ABC_HEAD}\n|---|---|---|---|---|---|---|\n" + "\n".join(extra))
    for name, off, on, first in speeds:
        print(f"{name}: batch 64 x {args.n} steps: grammar off {off:.2f} s, on {on:.2f} s "
              f"(x{on / off:.3f}); the first run on {first:.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
