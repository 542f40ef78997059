"""`make demo`: train a small lstm2 on the embedded folk tunes, sample, and name the MIDI file."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from typer.testing import CliRunner

RUN = Path("runs/demo")
OUT = Path("runs/demo-samples")


def _mgen(*args: str) -> str:
    from mgen.cli.app import app

    print("$ mgen " + " ".join(args), flush=True)
    result = CliRunner().invoke(app, list(args))
    sys.stderr.write(result.stderr if result.stderr_bytes else "")
    if result.exit_code != 0:
        sys.stdout.write(result.stdout)
        raise SystemExit(result.exit_code)
    return result.stdout


def main() -> None:
    shutil.rmtree(RUN, ignore_errors=True)
    shutil.rmtree(OUT, ignore_errors=True)
    _mgen(
        "train",
        "--tokenizer",
        "abc-char",
        "--model",
        "lstm2",
        "--time-budget",
        "4m",
        "--out",
        str(RUN),
        "--quiet",
    )
    printed = _mgen(
        "sample",
        "--run",
        str(RUN),
        "--decoder",
        "temperature",
        "--temperature",
        "0.8",
        "-n",
        "600",
        "-k",
        "8",
        "--out",
        str(OUT),
    )
    midis = [Path(p) for p in printed.split() if p.endswith(".mid")]
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
