"""Listen and look: audio through FluidSynth, piano-roll PNGs, MusicXML for notation editors."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import warnings
import wave
from pathlib import Path

import numpy as np

from mgen.core.errors import DataError, MgenError
from mgen.core.io import atomic_path
from mgen.evaluate.notes import Piece, file_format, music21_score, read_pieces

INSTALL_HINT = "install FluidSynth: sudo apt-get install fluidsynth fluid-soundfont-gm"
#: General MIDI soundfonts where Debian/Ubuntu, Fedora, Arch and Homebrew put them.
SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/opt/homebrew/share/soundfonts/default.sf2",
    "/usr/local/share/soundfonts/default.sf2",
)
SAMPLE_RATE = 44100


class RendererMissing(MgenError):
    """No way to turn MIDI into audio on this machine."""


def find_soundfont(given: Path | None = None) -> Path | None:
    """`given`, else $MGEN_SOUNDFONT, else the first GM soundfont found in the usual places."""
    for cand in (given, os.environ.get("MGEN_SOUNDFONT"), *SOUNDFONTS):
        if cand and Path(cand).is_file():
            return Path(cand)
    if given:
        raise DataError(f"no soundfont at {given}")
    return None


def _pyfluidsynth() -> bool:
    try:
        import fluidsynth  # noqa: F401 - pyfluidsynth, an optional extra
    except (ImportError, OSError):  # OSError: the module is there but libfluidsynth is not
        return False
    return True


def to_midi(path: Path, folder: Path) -> Path:
    """`path` itself if it is MIDI, else its conversion written into `folder`: abc2midi for ABC
    when it is installed (the reference ABC converter, and it takes tunes music21 cannot write
    as MIDI), music21 otherwise."""
    if file_format(path) == "midi":
        return Path(path)
    out = folder / (Path(path).stem + ".mid")
    binary = shutil.which("abc2midi")
    if file_format(path) == "abc" and binary:
        subprocess.run([binary, str(path), "-o", str(out)], capture_output=True, timeout=60)
        if out.exists():
            return out
    score = music21_score(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            score.write("midi", fp=str(out))
    except Exception as e:  # noqa: BLE001 - music21 raises many types on odd scores
        raise DataError(f"cannot convert {path} to MIDI: {type(e).__name__}: {e}") from None
    return out


def render_wav(path: Path, out: Path, soundfont: Path | None = None) -> Path:
    """Audio of any supported file: the fluidsynth program with a GM soundfont, else
    pyfluidsynth through pretty_midi (its bundled soundfont); else RendererMissing."""
    binary, sf2 = shutil.which("fluidsynth"), find_soundfont(soundfont)
    if not (binary and sf2) and not _pyfluidsynth():
        raise RendererMissing(INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="mgen-render-") as tmp:
        midi = to_midi(Path(path), Path(tmp))
        with atomic_path(out) as dest:
            if binary and sf2:
                _fluidsynth_cli(binary, sf2, midi, dest)
            else:
                _pyfluidsynth_wav(midi, dest, sf2)
    return out


def _fluidsynth_cli(binary: str, sf2: Path, midi: Path, dest: Path) -> None:
    # -n no MIDI input, -i no shell, -F render to a file (as fast as possible, no audio device).
    cmd = [
        binary,
        "-ni",
        "-q",
        "-g",
        "0.6",
        "-r",
        str(SAMPLE_RATE),
        "-T",
        "wav",
        "-F",
        str(dest),
        str(sf2),
        str(midi),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, errors="replace")
    except (OSError, subprocess.TimeoutExpired) as e:
        raise MgenError(f"fluidsynth failed: {e}") from None
    if proc.returncode != 0 or dest.stat().st_size <= 44:  # 44 bytes: a WAV header alone
        said = (proc.stderr or proc.stdout).strip().splitlines()
        raise MgenError(f"fluidsynth could not render {midi.name}: {said[-1] if said else '?'}")


def _pyfluidsynth_wav(midi: Path, dest: Path, sf2: Path | None) -> None:
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(str(midi))
    kwargs = {"sf2_path": str(sf2)} if sf2 else {}  # else pretty_midi's bundled TimGM6mb.sf2
    audio = pm.fluidsynth(fs=SAMPLE_RATE, **kwargs)  # [samples] float in [-1, 1]
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    with wave.open(str(dest), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())


def render_musicxml(path: Path, out: Path) -> Path:
    """MusicXML that MuseScore (or any notation editor) opens."""
    score = music21_score(path)
    with atomic_path(out) as dest:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                written = Path(score.write("musicxml", fp=str(dest)))
        except Exception as e:  # noqa: BLE001 - as above
            raise DataError(f"cannot write MusicXML for {path}: {type(e).__name__}: {e}") from None
        if written != dest:  # music21 may pick its own name (e.g. for an Opus); keep ours
            os.replace(written, dest)
    return out


def first_piece(path: Path) -> Piece:
    pieces, errors = read_pieces(path, limit=1)
    if not pieces:
        raise DataError(f"cannot read {path}: {'; '.join(errors) or 'no piece'}")
    return pieces[0]


def render_png(path: Path, out: Path, title: str | None = None) -> Path:
    """A piano roll: one bar per note, pitch against beats, with bar lines."""
    piece = first_piece(Path(path))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    end = piece.end()
    fig, ax = plt.subplots(figsize=(min(12.0, 3 + end / 8), 3.2), dpi=90)
    # One rectangle per note: (onset, pitch - 0.4) to (onset + duration, pitch + 0.4).
    x0, x1 = piece.onset, piece.onset + piece.duration
    y0, y1 = piece.pitch - 0.4, piece.pitch + 0.4
    boxes = np.stack([np.c_[x0, y0], np.c_[x1, y0], np.c_[x1, y1], np.c_[x0, y1]], axis=1)
    ax.add_collection(PolyCollection(boxes, facecolors="tab:blue", edgecolors="navy", lw=0.5))
    for bar in np.arange(0, end + 1e-9, piece.bar_length):
        ax.axvline(bar, color="0.85", lw=0.6, zorder=0)
    lo, hi = int(piece.pitch.min()), int(piece.pitch.max())
    ax.set_xlim(0, max(end, piece.bar_length))
    ax.set_ylim(lo - 1.5, hi + 1.5)
    ticks = _c_ticks(lo, hi)
    ax.set_yticks(ticks)
    ax.set_yticklabels([_NAMES[t % 12] + str(t // 12 - 1) for t in ticks])
    ax.set_xlabel("beats (quarter notes)")
    ax.set_ylabel("pitch")
    ax.set_title(title or Path(path).name, fontsize=10)
    fig.tight_layout()
    try:
        with atomic_path(out) as dest:
            fig.savefig(dest, format="png")
    finally:
        plt.close(fig)
    return out


_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def _c_ticks(lo: int, hi: int) -> list[int]:
    """MIDI numbers of every C in [lo - 1, hi + 1], or the lowest note when none is."""
    ticks = [p for p in range(lo - 1, hi + 2) if p % 12 == 0]
    return ticks or [lo]
