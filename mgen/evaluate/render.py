"""Listen and look: audio through FluidSynth, piano-roll PNGs, MusicXML for notation editors."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import warnings
import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mgen.core.contracts.errors import ConfigError, DataError, MgenError
from mgen.core.contracts.formats import reads_notes
from mgen.core.contracts.io import atomic_path
from mgen.evaluate.notes import MIDI, MUSICXML, read_pieces, reason, require_reader
from mgen.formats.score import Score, single

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
    if given is not None:  # asked for: that one or an error, never another in its place
        if not Path(given).is_file():
            raise DataError(f"no soundfont at {given}")
        return Path(given)
    for cand in (os.environ.get("MGEN_SOUNDFONT"), *SOUNDFONTS):
        if cand and Path(cand).is_file():
            return Path(cand)
    return None


def _pyfluidsynth() -> bool:
    try:
        import fluidsynth  # noqa: F401 - pyfluidsynth, an optional extra
    except (ImportError, OSError):  # OSError: the module is there but libfluidsynth is not
        return False
    return True


def midi_of(path: Path, folder: Path) -> Path:
    """A MIDI file of the first piece of any readable file: `path` itself if it is MIDI;
    MusicXML through music21; a plugin format through its notes, or when the format reads no
    notes itself, its `to_midi`. Conversions are written into `folder`."""
    path, folder = Path(path), Path(folder)
    reader = require_reader(path, "render")
    out = folder / (path.stem + ".mid")
    if reader.name == MIDI:
        return path
    if reader.name == MUSICXML:
        return _write_score(_music21_parse(path), out, "midi", path)
    if not reads_notes(reader.format):  # no note reader: the format's own MIDI
        try:
            return Path(reader.format.to_midi(path, out))
        except Exception as e:  # noqa: BLE001 - a plugin may fail in any way on a bad file
            raise DataError(f"cannot convert {path} to MIDI: {reason(e)}") from None
    return write_piece_midi(first_piece(path), out)


def write_piece_midi(piece: Score, out: Path, bpm: float = 120.0) -> Path:
    """One piano track of the piece's sounding notes at `bpm` quarter notes a minute, in the
    meter of its bar length."""
    from mgen.formats.midi.write import write_midi

    ok = (piece.pitch >= 0) & (piece.pitch <= 127)
    columns = (piece.pitch[ok], piece.onset[ok], piece.duration[ok])
    piano = single(piece.name, *columns, piece.bar_length, piece.velocity[ok], tempos=[[0.0, bpm]])
    return write_midi(piano, out)


def render_wav(path: Path, out: Path, soundfont: Path | None = None) -> Path:
    """Audio of any readable file: the fluidsynth program with a GM soundfont, else
    pyfluidsynth through pretty_midi (its bundled soundfont); else RendererMissing."""
    binary, sf2 = shutil.which("fluidsynth"), find_soundfont(soundfont)
    if not (binary and sf2) and not _pyfluidsynth():
        raise RendererMissing(INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="mgen-render-") as tmp:
        midi = midi_of(Path(path), Path(tmp))
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
    """MusicXML that MuseScore (or any notation editor) opens: MusicXML and MIDI files through
    music21, any other format through its MIDI (see `midi_of`), so of its first piece."""
    path = Path(path)
    if require_reader(path, "render").name == MUSICXML:
        score = _music21_parse(path)
    else:
        with tempfile.TemporaryDirectory(prefix="mgen-render-") as tmp:
            score = _music21_parse(midi_of(path, Path(tmp)))
    return _write_score(score, out, "musicxml", path)


def _music21_parse(path: Path):
    from mgen.formats.m21 import parse

    return parse(Path(path))


def _write_score(score, out: Path, fmt: str, source: Path) -> Path:
    """`score` written by music21 as `fmt` at `out` (atomically)."""
    with atomic_path(out) as dest:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                written = Path(score.write(fmt, fp=str(dest)))
        except OSError:
            raise  # a full or unwritable disk: atomic_path says so
        except Exception as e:  # noqa: BLE001 - music21 raises many types on odd scores
            raise DataError(f"cannot write {fmt} for {source}: {reason(e)}") from None
        if written != dest:  # music21 may pick its own name (e.g. for an Opus); keep ours
            os.replace(written, dest)
    return out


def first_piece(path: Path) -> Score:
    """The first piece of any readable file; DataError when there is none."""
    reader = require_reader(path, "render")
    pieces, errors = read_pieces(path, limit=1, reader=reader)
    if not pieces:
        raise DataError(f"cannot read {path}: {'; '.join(errors) or 'no piece'}")
    return pieces[0]


def render_png(path: Path, out: Path, title: str | None = None) -> Path:
    """A piano roll: one bar per note, pitch against beats, with bar lines."""
    piece = first_piece(Path(path))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    end = piece.end()
    fig, ax = plt.subplots(figsize=(min(12.0, 3 + end / 8), 3.2), dpi=90)
    piano_roll(ax, piece, title or Path(path).name)
    fig.tight_layout()
    try:
        with atomic_path(out) as dest:
            fig.savefig(dest, format="png")
    finally:
        plt.close(fig)
    return out


def piano_roll(ax, piece: Score, title: str) -> None:
    """Draw `piece` on matplotlib axes: one box per note, pitch against beats, bar lines; the
    notes of each track in a colour of their own, named in a legend, when it has several."""
    from matplotlib.collections import PolyCollection

    end = piece.end()
    pitched = [t for t in piece.tracks if not t.is_drum and (t.duration > 0).any()]
    parts = [(t.name or f"track {i}", t) for i, t in enumerate(pitched, 1)]
    for k, (name, part) in enumerate(parts if len(parts) > 1 else [("", piece)]):
        # One rectangle per note: (onset, pitch - 0.4) to (onset + duration, pitch + 0.4).
        keep = part.duration > 0
        x0, x1 = part.onset[keep], (part.onset + part.duration)[keep]
        y0, y1 = part.pitch[keep] - 0.4, part.pitch[keep] + 0.4
        boxes = np.stack([np.c_[x0, y0], np.c_[x1, y0], np.c_[x1, y1], np.c_[x0, y1]], axis=1)
        colour = f"C{k % 10}"  # tab:blue (C0) for a piece of one track, as before
        ax.add_collection(PolyCollection(boxes, facecolors=colour, edgecolors="navy" if k == 0
                                         and not name else colour, lw=0.5, label=name or None))  # fmt: skip
    if len(parts) > 1:
        ax.legend(loc="upper right", fontsize=7, ncol=min(len(parts), 6))
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
    ax.set_title(title, fontsize=10)


_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def _c_ticks(lo: int, hi: int) -> list[int]:
    """MIDI numbers of every C in [lo - 1, hi + 1], or the lowest note when none is."""
    ticks = [p for p in range(lo - 1, hi + 2) if p % 12 == 0]
    return ticks or [lo]


# -- files in, files out ----------------------------------------------------------------------


def render_files(
    paths: Sequence[Path],
    *,
    wav: bool = False,
    png: bool = False,
    musicxml: bool = False,
    out: Path | None = None,
    soundfont: Path | None = None,
) -> list[Path]:
    """The chosen renderings of every file (PNG, MusicXML, WAV in that order per file), named
    after it in `out` or beside it; inputs that would share a name get distinct ones (see
    `output_stems`). Every input is checked before anything is written."""
    if not (wav or png or musicxml):
        raise ConfigError("choose at least one of --wav, --png, --musicxml")
    unique: dict[Path, Path] = {}
    for p in map(Path, paths):
        unique.setdefault(p.resolve(), p)  # a file named twice is rendered once
    files = list(unique.values())
    for f in files:
        if not f.is_file():
            raise DataError(f"no such file: {f}")
        require_reader(f, "render")
    jobs = [(".png", png, render_png), (".musicxml", musicxml, render_musicxml)]
    written = []
    for f, stem in zip(files, output_stems(files, out), strict=True):
        targets = [(stem.with_name(stem.name + sfx), fn) for sfx, on, fn in jobs if on]
        if wav:
            targets.append((stem.with_name(stem.name + ".wav"), None))
        for target, fn in targets:
            if target.resolve() == f.resolve():
                raise DataError(f"rendering {f} would overwrite it; pass --out")
            written.append(fn(f, target) if fn else render_wav(f, target, soundfont))
    return written


def render_wavs(paths: Sequence[Path]) -> list[Path]:
    """Audio of sampled pieces (`mgen sample --wav`): one WAV per piece, rendered from its
    .mid file when it has one (a sample written natively and as MIDI shares a stem)."""
    chosen: dict[Path, Path] = {}
    for p in map(Path, paths):
        key = p.parent / p.stem
        if key not in chosen or p.suffix.lower() in (".mid", ".midi"):
            chosen[key] = p
    if not chosen:
        return []
    return render_files(list(chosen.values()), wav=True)


def output_stems(files: Sequence[Path], out: Path | None = None) -> list[Path]:
    """One distinct output path without suffix per input: `out` (or the file's folder) / its
    stem. Inputs that would share one instead get, the first of these that tells them apart:
    their suffix (`x-abc`, `x-mid`), their folder's name (`a-x`, `b-x`), both, then more of
    their folders. Deterministic: a file's name depends only on the inputs that clash with it."""
    stems = [(out or f.parent) / f.stem for f in files]
    for ids in _clashes(stems):
        for i, name in zip(ids, _distinct_names([files[i] for i in ids]), strict=True):
            stems[i] = stems[i].with_name(name)
    for ids in _clashes(stems):  # a new name met another input's plain one: number them
        for n, i in enumerate(ids[1:], 2):
            stems[i] = stems[i].with_name(f"{stems[i].name}-{n}")
    return stems


def _clashes(stems: list[Path]) -> list[list[int]]:
    groups: dict[Path, list[int]] = {}
    for i, s in enumerate(stems):
        groups.setdefault(s, []).append(i)
    return [ids for ids in groups.values() if len(ids) > 1]


def _distinct_names(group: list[Path]) -> list[str]:
    depth = max(len(f.parent.parts) for f in group)
    for k in range(depth + 1):
        for with_suffix in (False, True) if k else (True,):
            names = [_name(f, k, with_suffix) for f in group]
            if len(set(names)) == len(names):
                return names
    return [f"{f.stem}-{n}" for n, f in enumerate(group, 1)]


def _name(f: Path, k: int, with_suffix: bool) -> str:
    parts = [*(p.strip("/\\") or "root" for p in f.parent.parts[len(f.parent.parts) - k :])]
    parts.append(f.stem)
    if with_suffix:
        parts.append(f.suffix.lstrip(".") or "none")
    return "-".join(parts)
