"""How often a run trained with attribute controls gives what it is asked (docs/control.md).

    python tools/control_bench.py --run runs/latest --key "D minor" --meter 6/8 -k 50
    python tools/control_bench.py --run runs/voices --instruments "violin,viola,cello" -k 50

For each attribute asked (each on its own), `-k` samples of `-n` tokens asked for it and `-k`
samples not asked (the same seeds), written, then read back from the written files: the key by
music21's Krumhansl-Schmuckler estimate (`analyze("key")`, Aarden-Essen profiles), the meter by the first written M:
or time signature, the ensemble by the MIDI file's tracks (General MIDI programs). It prints the
share of samples that have the attribute asked beside the share that have it unasked; for the
key also by the estimate that labelled the training pieces (the tokenizer's `attributes`).
`--guidance G` samples the asked side under classifier-free guidance (docs/control.md).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path


def key_of(path: Path) -> str | None:
    import music21

    from mgen.formats.keys import normal_key

    try:
        found = music21.converter.parse(path).analyze("key")
    except Exception:  # noqa: BLE001 - a file music21 cannot read has no key to count
        return None
    return normal_key(f"{found.tonic.name} {found.mode}")


def meter_of(path: Path) -> str | None:
    import music21

    try:
        sigs = music21.converter.parse(path).recurse().getElementsByClass("TimeSignature")
    except Exception:  # noqa: BLE001
        return None
    first = next(iter(sigs), None)
    return first.ratioString if first is not None else None


def ensemble_of(path: Path) -> str | None:
    import pretty_midi

    try:
        midi = pretty_midi.PrettyMIDI(str(path))
    except Exception:  # noqa: BLE001
        return None
    return ",".join("drums" if i.is_drum else str(i.program) for i in midi.instruments)


def wanted(name: str, value: str) -> str:
    """What a written file shows when it has the asked `value`."""
    from mgen.core.contracts.controls import normal

    if name == "instruments":
        from mgen.core.contracts.ensemble import instrument_list
        from mgen.formats.midi import gm

        chosen = gm.ensemble_of(instrument_list(value))
        return ",".join("drums" if i.is_drum else str(i.program) for i in chosen)
    return normal(name, value)


def labels_key(run, pieces: list[list[str]]) -> list[str | None]:
    """Each piece's key as training labelled it: the tokenizer's own estimate (for the MIDI
    tokenizers, a Krumhansl-Schmuckler estimate with Krumhansl-Kessler profiles)."""
    from mgen.core.contracts.controls import strip

    return [run.tokenizer.attributes(strip(p)).get("key") for p in pieces]


def share(run, name: str, value: str | None, args) -> tuple[float, float | None]:
    """The share of `args.k` samples (asked `value`, or not asked: None) that have `wanted`,
    and for the key the share by the training labels' own estimate (None for the others)."""
    from mgen import api

    read = {"key": key_of, "meter": meter_of, "instruments": ensemble_of}[name]
    asked = {} if value is None else {name: value}
    target = wanted(name, args.asked[name])
    with tempfile.TemporaryDirectory() as folder:
        result = api.sample(run, args.n, args.k, args.decoder, seed=args.seed, out=folder,
                            instruments=asked.get("instruments"),
                            guidance=args.guidance if asked else None,
                            controls={k: v for k, v in asked.items() if k != "instruments"})  # fmt: skip
        suffix = ".mid" if name == "instruments" else run.tokenizer.format.suffix
        found = [read(p) for p in result.paths if p.suffix == suffix]
        own = labels_key(run, result.pieces) if name == "key" else None
    rate = sum(f == target for f in found) / max(len(found), 1)
    return rate, None if own is None else sum(f == target for f in own) / max(len(own), 1)


def main() -> None:
    from mgen import api

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", default="runs/latest")
    p.add_argument("--key")
    p.add_argument("--meter")
    p.add_argument("--instruments")
    p.add_argument("-k", type=int, default=50, help="samples each way")
    p.add_argument("-n", type=int, default=400, help="tokens a sample")
    p.add_argument("--decoder", default="temperature")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--guidance", type=float, help="asked samples only (default: the run's)")
    args = p.parse_args()
    args.asked = {k: v for k in ("key", "meter", "instruments") if (v := getattr(args, k))}
    if not args.asked:
        p.error("ask for at least one of --key, --meter, --instruments")
    run = api.load_run(args.run)
    print(f"run {args.run}: controls {api.controls_of(run) or 'none'}")
    print(f"{'attribute':<12} {'asked':<24} {'has it, asked':>14} {'has it, unasked':>16}")
    for name, value in args.asked.items():
        (on, on_own), (off, off_own) = share(run, name, value, args), share(run, name, None, args)
        print(f"{name:<12} {value:<24} {on:>14.1%} {off:>16.1%}")
        if on_own is not None:
            print(f"{'':<12} {'(labels estimate)':<24} {on_own:>14.1%} {off_own:>16.1%}")


if __name__ == "__main__":
    main()
