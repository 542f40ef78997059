"""`make demo`: train a small lstm2 on the embedded folk tunes, sample, and name the MIDI file.
Written with the Python API (mgen.train, Run.sample, Run.write), as a notebook would."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import mgen

RUN = Path("runs/demo")
OUT = Path("runs/demo-samples")


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main() -> None:
    shutil.rmtree(RUN, ignore_errors=True)
    shutil.rmtree(OUT, ignore_errors=True)
    _log("training lstm2 on the folk-abc tunes for 4 minutes ...")
    run = mgen.train(tokenizer="abc-char", model="lstm2", time_budget=240, out=RUN, log=_log)
    pieces = run.sample(600, 8, "temperature", temperature=0.8)
    written = run.write(pieces, OUT)
    midis = [p for p in written.paths if p.suffix == ".mid"]
    if not midis:
        raise SystemExit("demo: no sample could be converted to MIDI; train longer")
    import pretty_midi

    notes = len(pretty_midi.PrettyMIDI(str(midis[0])).instruments[0].notes)
    print(
        f"\nDemo done. Listen to {midis[0]} ({notes} notes); its ABC text is "
        f"{midis[0].with_suffix('.abc')}.\nTraining curve: {RUN / 'loss.png'}"
    )


if __name__ == "__main__":
    main()
