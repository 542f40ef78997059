"""Choose a run's decoding by measurement (docs/quality.md): for each setting, sample `-k`
pieces of `-n` tokens with one seed and judge them as `mgen eval --run` does (one reference of
the run's validation split, read once); the setting with the lowest classifier accuracy whose
samples are never stuck nor looping wins, and `--save` writes it into the run's config.json,
where `mgen sample --run RUN` finds it:

    python tools/decoding_sweep.py RUN [-k 200] [-n 800] [--seed 21] [--save]
        [--setting temperature:temperature=0.9 ...] [--setting temperature+no-parallels]

A setting is DECODER:OPTION=VALUE,... and may add the grammar's rules with +RULE (e.g.
midi-tracks' no-parallels); for music in voices a last column gives parallel fifths and
octaves per 100 beats.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

#: What is tried without --setting: the temperature decoder around 1, and nucleus sampling.
DEFAULT_SETTINGS = [
    "temperature:temperature=1.0", "temperature:temperature=0.9", "temperature:temperature=1.1",
    "top-p:top_p=0.9", "top-p:top_p=0.95",
]  # fmt: skip
COLUMNS = ["setting", "valid", "stuck", "looping", "classifier", "ends on tonic",
           "repeated", "notes/bar", "range", "octave leaps", "interval JSD", "duration JSD",
           "parallel 5ths, 8ves /100 beats"]  # fmt: skip


def parse_setting(text: str) -> tuple[str, dict[str, float], list[str]]:
    """'top-p:top_p=0.95+no-parallels' -> ('top-p', {'top_p': 0.95}, ['no-parallels'])."""
    text, *rules = text.split("+")
    name, _, rest = text.partition(":")
    options = {}
    for pair in filter(None, rest.split(",")):
        key, _, value = pair.partition("=")
        options[key.strip()] = float(value)
    return name.strip(), options, [r.strip() for r in rules]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a run directory or a shipped model's name")
    parser.add_argument("-k", type=int, default=200, help="samples per setting")
    parser.add_argument("-n", type=int, default=800, help="tokens per sample at most")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--setting", action="append", help="DECODER:OPTION=VALUE,...")
    parser.add_argument("--save", action="store_true", help="save the winner in the run")
    parser.add_argument("--reports", type=Path, help="write each setting's `mgen eval` table here")
    args = parser.parse_args(argv)
    from mgen import api
    from mgen.evaluate.report import run_reference

    run = api.load_run(args.run)
    started = time.process_time()
    judge_with = run_reference(run.config, run.tokenizer, 200)
    print(f"reference: {judge_with.reference.drawn} ({time.process_time() - started:.0f} CPU-s)")
    print("| " + " | ".join(COLUMNS) + " |\n|" + "---|" * len(COLUMNS))
    print("| " + " | ".join(["corpus (the reference)", *_corpus_row(judge_with.reference)]) + " |")
    results = []
    with tempfile.TemporaryDirectory(prefix="mgen-sweep-") as tmp:
        for i, text in enumerate(args.setting or DEFAULT_SETTINGS):
            decoder, options, rules = parse_setting(text)
            folder = Path(tmp) / str(i)
            sampled = api.sample(run, args.n, args.k, decoder, seed=args.seed, out=folder,
                                 rules=rules, **options)  # fmt: skip
            figures = _judged(sampled.paths, judge_with, run.tokenizer_name, args.reports, text)
            results.append((text, decoder, options, rules, figures))
            print("| " + " | ".join([text, *_row(figures)]) + " |", flush=True)
    return _choose(run, results, args)


def _judged(
    paths: list[Path], judge_with: Any, native: str, reports: Path | None, setting: str
) -> dict[str, Any]:
    """The figures of the samples' native format (MIDI for the MIDI tokenizers); with
    `reports`, the whole `mgen eval` table written there too."""
    from mgen.evaluate.report import evaluate, render_text

    figures = evaluate(paths, judge_with.reference, lambda _: None, judge_with)
    if reports is not None:
        reports.mkdir(parents=True, exist_ok=True)
        (reports / f"{setting.replace(':', '-')}.txt").write_text(render_text(figures))
    formats = figures["formats"]
    return formats.get(native) or formats.get("midi") or next(iter(formats.values()))


def _row(f: dict[str, Any]) -> list[str]:
    rep, form, stats = f["repetition"], f.get("form", {}), f["stats"]
    intervals = form.get("intervals") or []
    octaves = _octave_rate(intervals)
    pct = lambda x: "-" if x is None else f"{x:.0%}"  # noqa: E731 - a local formatter
    return [f"{f['valid']}/{f['files']}", str(rep["stuck"]), str(rep["looping"]),
            pct(f["distinguish"]["accuracy"]), pct(form.get("ends_on_tonic")),
            pct(form.get("repeated_sections")), f"{stats['notes_per_bar']:.2f}",
            f"{stats['pitch_range']:.1f}", "-" if octaves is None else f"{octaves:.2%}",
            f"{f['interval_jsd']:.3f}", f"{f['duration_jsd']:.3f}",
            _parallels(f.get("voices"))]  # fmt: skip


def _parallels(v: dict[str, Any] | None) -> str:
    if not v or v.get("fifths_per_100_beats") is None:
        return "-"
    return f"{v['fifths_per_100_beats']:.2f}, {v['octaves_per_100_beats']:.2f}"


def _corpus_row(reference: Any) -> list[str]:
    """The same columns for the reference's own pieces (the classifier: its halves)."""
    c = reference.corpus
    form, stats, half = c.get("form", {}), c["stats"], c.get("divergence") or {}
    octaves = _octave_rate(form.get("intervals") or [])
    pct = lambda x: "-" if x is None else f"{x:.0%}"  # noqa: E731 - a local formatter
    acc = (c.get("distinguish") or {}).get("accuracy")
    return [pct(c.get("validity")), pct(c["repetition"].get("stuck_share")),
            pct(c["repetition"].get("looping_share")), pct(acc), pct(form.get("ends_on_tonic")),
            pct(form.get("repeated_sections")), f"{stats['notes_per_bar']:.2f}",
            f"{stats['pitch_range']:.1f}", "-" if octaves is None else f"{octaves:.2%}",
            f"{half.get('interval_jsd', 0):.3f}", f"{half.get('duration_jsd', 0):.3f}",
            _parallels(c.get("voices"))]  # fmt: skip


def _octave_rate(intervals: list[float]) -> float | None:
    """The share of melodic intervals that leap an octave or more (the histogram's bins run
    from -13 to +13 semitones, the outer two holding everything beyond)."""
    total = sum(intervals)
    if not total:
        return None
    middle = len(intervals) // 2
    return (sum(intervals[: middle - 11]) + sum(intervals[middle + 12 :])) / total


def _choose(run: Any, results: list, args: argparse.Namespace) -> int:
    from mgen.core.runs.artifact import RunDir
    from mgen.core.runs.decoding import KEY, Decoding

    clean = [r for r in results if not r[4]["repetition"]["stuck"] and not r[4]["repetition"]["looping"]
             and r[4]["distinguish"]["accuracy"] is not None]  # fmt: skip
    if not clean:
        print("no setting kept every sample from getting stuck or looping with a classifier "
              "accuracy measured (too few pieces?): nothing chosen")  # fmt: skip
        return 1
    text, decoder, options, rules, figures = min(
        clean, key=lambda r: r[4]["distinguish"]["accuracy"]
    )
    accuracy = figures["distinguish"]["accuracy"]
    how = (f"tools/decoding_sweep.py {args.run} -k {args.k} -n {args.n} --seed {args.seed}: "
           f"classifier {accuracy:.0%}, none stuck or looping, lowest of {len(results)} "
           "settings")  # fmt: skip
    chosen = Decoding(decoder, options, rules, chosen_by=how)
    print(f"chosen: {chosen.describe()} ({how})")
    if args.save:
        RunDir(run.path).save_decoding(chosen.to_dict())
        print(f"saved in {run.path}'s {KEY!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
