"""`make demo`: sample the shipped folk-abc model (MIDI in seconds, no training), then fine-tune
it for a minute on one collection of ballads, as you would on your own files, and sample that.
Written with the Python API (mgen.load_run, mgen.train, Run.sample, Run.write)."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import mgen
from mgen.core.runs.artifact import RunDir

MODEL = "folk-abc"
RUN = Path("runs/demo")
OUT = Path("runs/demo-samples")


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _best_midi(written) -> tuple[Path, int]:
    """The MIDI file of the longest sample whose ABC passes `mgen eval`'s checks (bars that
    fit the meter, music21, abc2midi, ...), else of the longest sample; and its note count."""
    import pretty_midi

    from mgen.evaluate.validity import judge

    def rank(midi: Path) -> tuple[bool, int]:
        abc = midi.with_suffix(".abc")
        valid = abc.is_file() and not any(u.errors for u in judge(abc, "abc").units)
        return valid, sum(len(i.notes) for i in pretty_midi.PrettyMIDI(str(midi)).instruments)

    ranked = sorted(((rank(p), p) for p in written.paths if p.suffix == ".mid"), reverse=True)
    if not ranked:
        raise SystemExit("demo: no sample could be converted to MIDI")
    (_, notes), midi = ranked[0]
    return midi, notes


def _ballads() -> list[str]:
    """Stand-ins for your own files: the Essen ballads of the music21 corpus."""
    import music21

    folder = Path(music21.__file__).parent / "corpus" / "essenFolksong"
    return [str(p) for p in sorted(folder.glob("ballad*.abc"))]


def sample_shipped() -> tuple[Path, int]:
    """Four pieces of the shipped model in OUT/<model>/: the best MIDI file, its notes."""
    run = mgen.load_run(MODEL)
    return _best_midi(run.write(run.sample(600, 4, temperature=0.9), OUT / MODEL))


def main() -> None:
    start = time.monotonic()
    shutil.rmtree(RUN, ignore_errors=True)
    shutil.rmtree(OUT, ignore_errors=True)
    _log(f"sampling the shipped {MODEL} model (no training) ...")
    midi, notes = sample_shipped()
    print(
        f"\nListen to {midi} ({notes} notes; of 4 samples, the longest whose ABC passes mgen "
        f"eval's checks), written {time.monotonic() - start:.1f} s after the start; its ABC "
        f"text is {midi.with_suffix('.abc')}.\n",
        flush=True,
    )
    _log(f"fine-tuning {MODEL} on {len(_ballads())} files of ballads for 60 s ...")
    tuned = mgen.train(init=MODEL, data=_ballads(), time_budget=60, out=RUN, log=_log)
    midi, notes = _best_midi(tuned.write(tuned.sample(600, 4, temperature=0.9), OUT / "tuned"))
    print(
        f"\nDemo done. The fine-tuned model's piece: {midi} ({notes} notes).\n"
        f"Fine-tuning curve: {RunDir(tuned.path).curve}; your own files: "
        f"mgen train --init {MODEL} --data my-tunes/"
    )


if __name__ == "__main__":
    main()
