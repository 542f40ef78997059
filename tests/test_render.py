"""`mgen render`: piano-roll PNGs, MusicXML and WAV audio from real corpus files."""

from __future__ import annotations

import importlib.util
import shutil
import wave
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from mgen.evaluate.notes import abc_tunes, read_pieces, read_text
from mgen.evaluate.render import INSTALL_HINT, find_soundfont

HAVE_FLUIDSYNTH = bool(shutil.which("fluidsynth") and find_soundfont())
needs_fluidsynth = pytest.mark.skipif(
    not HAVE_FLUIDSYNTH,
    reason="the fluidsynth program or a GM soundfont is absent "
    "(sudo apt-get install fluidsynth fluid-soundfont-gm)",
)


@pytest.fixture
def tune(tmp_path: Path, music21_corpus: Path) -> Path:
    """One real Essen folk tune in its own ABC file."""
    text = abc_tunes(read_text(music21_corpus / "essenFolksong" / "kinder0.abc"))[0]
    path = tmp_path / "tune.abc"
    path.write_text(text, encoding="utf-8")
    return path


def test_png_piano_roll_draws_every_note(tune, cli, tmp_path):
    import matplotlib.image as mpimg

    result = cli("render", tune, "--png", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    png = tmp_path / "out" / "tune.png"
    assert result.stdout.strip() == str(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size < 100_000
    img = mpimg.imread(png)  # [H, W, 4] floats
    blue = (img[..., 2] > 0.6) & (img[..., 0] < 0.3)  # tab:blue note boxes
    assert blue.sum() > 200
    # The boxes span the pitch range: blue rows cover at least one row per semitone.
    piece = read_pieces(tune)[0][0]
    rows = np.flatnonzero(blue.any(axis=1))
    assert rows.max() - rows.min() >= int(piece.pitch.max() - piece.pitch.min())


def test_png_of_a_piano_midi(shared_data, cli, tmp_path):
    midi = sorted((shared_data / "piano-midi").rglob("*.mid"))[0]
    result = cli("render", midi, "--png", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / (midi.stem + ".png")).stat().st_size < 200_000


def test_musicxml_keeps_the_notes(music21_corpus, cli, tmp_path):
    krn = music21_corpus / "palestrina" / "Agnus_01.krn"
    result = cli("render", krn, "--musicxml", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    xml = tmp_path / "Agnus_01.musicxml"
    assert "<score-partwise" in xml.read_text(encoding="utf-8")[:2000]
    ours = read_pieces(xml)[0][0]  # MusicXML: one piece, every voice
    voices = read_pieces(krn)[0]  # **kern: one piece per spine
    assert len(voices) > 1
    theirs = np.sort(np.concatenate([v.pitch for v in voices]))
    assert np.array_equal(np.sort(ours.pitch), theirs)


def test_render_needs_a_choice_and_a_music_file(cli, tune, tmp_path):
    assert cli("render", tune).exit_code == 2
    (tmp_path / "x.txt").write_text("hello")
    result = cli("render", tmp_path / "x.txt", "--png")
    assert result.exit_code == 1 and "cannot render" in result.stderr


def test_missing_renderer_says_how_to_install(cli, tune, tmp_path, monkeypatch):
    if importlib.util.find_spec("fluidsynth") is not None:
        pytest.skip("pyfluidsynth is installed, so a renderer exists without the program")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = cli("render", tune, "--wav")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {INSTALL_HINT}"
    assert not (tune.with_suffix(".wav")).exists()


@needs_fluidsynth
def test_wav_of_a_midi_file(cli, tmp_path):
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(program=0)
    inst.notes += [pretty_midi.Note(100, 60 + 2 * i, i * 0.5, i * 0.5 + 0.5) for i in range(4)]
    pm.instruments.append(inst)
    pm.write(str(tmp_path / "four.mid"))  # two seconds of music
    result = cli("render", tmp_path / "four.mid", "--wav")
    assert result.exit_code == 0, result.output
    with wave.open(str(tmp_path / "four.wav")) as w:
        rate, frames = w.getframerate(), w.readframes(w.getnframes())
        width, channels = w.getsampwidth(), w.getnchannels()
    assert rate == 44100 and width == 2
    audio = np.frombuffer(frames, dtype="<i2").reshape(-1, channels)
    assert 2.0 <= len(audio) / rate < 5.0  # the notes, plus the release tail
    assert np.abs(audio).max() > 1000  # audible, not silence


@needs_fluidsynth
def test_wav_of_an_abc_tune(cli, tune):
    result = cli("render", tune, "--wav")
    assert result.exit_code == 0, result.output
    with wave.open(str(tune.with_suffix(".wav"))) as w:
        seconds = w.getnframes() / w.getframerate()
    beats = read_pieces(tune)[0][0].end()
    assert seconds >= beats * 0.5 * 0.9  # music21 writes MIDI at 120 quarter notes a minute
