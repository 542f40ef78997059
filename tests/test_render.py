"""`mgen render`: piano-roll PNGs, MusicXML and WAV audio from real corpus files."""

from __future__ import annotations

import importlib.util
import shutil
import wave
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from mgen.evaluate.notes import read_pieces
from mgen.evaluate.render import INSTALL_HINT, find_soundfont
from mgen.formats.abc.notes import abc_tunes, read_text

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
    assert len(voices) > 1  # a file of several pieces renders its first, here the first voice
    first = voices[0]
    assert np.array_equal(ours.pitch, first.pitch)
    assert np.allclose(ours.onset, first.onset) and ours.end() == pytest.approx(first.end())


def test_render_needs_a_choice_and_a_music_file(cli, tune, tmp_path):
    assert cli("render", tune).exit_code == 2
    (tmp_path / "x.foo").write_text("hello")
    result = cli("render", tmp_path / "x.foo", "--png")
    assert result.exit_code == 1 and "cannot render .foo files" in result.stderr
    assert ".abc" in result.stderr and ".krn" in result.stderr and ".mid" in result.stderr
    (tmp_path / "x.txt").write_text("hello")  # abc-char reads .txt: not music, though
    result = cli("render", tmp_path / "x.txt", "--png")
    assert result.exit_code == 1 and "cannot read" in result.stderr
    assert not (tmp_path / "x.png").exists()


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


def _notes(path: Path, pitches) -> Path:
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(program=0)
    inst.notes += [pretty_midi.Note(100, p, i * 0.5, i * 0.5 + 0.5) for i, p in enumerate(pitches)]
    pm.instruments.append(inst)
    pm.write(str(path))
    return path


def test_inputs_that_share_a_name_get_their_own_outputs(cli, tune, tmp_path):
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "out"
    a.mkdir()
    b.mkdir()
    _notes(a / "x.mid", [60, 62, 64])
    _notes(b / "x.mid", [72, 71, 69, 67, 65])
    result = cli("render", a / "x.mid", b / "x.mid", "--png", "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == [str(out / "a-x.png"), str(out / "b-x.png")]
    assert (out / "a-x.png").read_bytes() != (out / "b-x.png").read_bytes()
    # Beside the inputs: one folder, one stem, two formats.
    shutil.copy(tune, a / "x.abc")
    result = cli("render", a / "x.abc", a / "x.mid", "--png")
    assert result.stdout.split() == [str(a / "x-abc.png"), str(a / "x-mid.png")]
    assert cli("render", a / "x.mid", "--png").stdout.split() == [str(a / "x.png")]


def test_output_names_are_distinct_and_deterministic():
    from mgen.evaluate.render import output_stems

    out = Path("out")
    cases = {
        ("a/x.mid", "b/x.mid"): ["a-x", "b-x"],
        ("s/x.abc", "s/x.mid", "s/y.mid"): ["x-abc", "x-mid", "y"],
        ("a/x.mid", "a/x.abc", "b/x.mid"): ["a-x-mid", "a-x-abc", "b-x-mid"],
        ("a/s/x.mid", "b/s/x.mid"): ["a-s-x", "b-s-x"],
        ("a/x.mid", "b/x.mid", "c/a-x.mid"): ["a-x", "b-x", "a-x-2"],
    }
    for inputs, names in cases.items():
        stems = output_stems([Path(p) for p in inputs], out)
        assert stems == [out / n for n in names], inputs
    assert output_stems([Path("a/x.mid"), Path("b/x.mid")]) == [Path("a/x"), Path("b/x")]


def test_sample_wavs_come_from_each_samples_midi(tmp_path, monkeypatch, tune):
    from mgen.evaluate import render

    sources = {}

    def fake_wav(path: Path, out: Path, soundfont=None) -> Path:
        sources[out.name] = path.name
        out.write_bytes(b"RIFF")
        return out

    monkeypatch.setattr(render, "render_wav", fake_wav)
    shutil.copy(tune, tmp_path / "sample-001.abc")
    _notes(tmp_path / "sample-001.mid", [60, 62])
    shutil.copy(tune, tmp_path / "sample-002.abc")  # its MIDI could not be written
    paths = [tmp_path / n for n in ("sample-001.abc", "sample-001.mid", "sample-002.abc")]
    written = render.render_wavs(paths)
    assert written == [tmp_path / "sample-001.wav", tmp_path / "sample-002.wav"]
    assert sources == {"sample-001.wav": "sample-001.mid", "sample-002.wav": "sample-002.abc"}


def test_grace_notes_do_not_hang_in_the_midi(music21_corpus: Path, tmp_path: Path):
    """O'Neill's tunes have grace notes (`{d}c3-B`). music21's MIDI writer put a grace note's
    note-off before its note-on, so it sounded until the next note-off of its pitch: in "The
    Friar's Hill" for 19 beats. Written by the abc-char tokenizer, no note is longer than the
    longest note the tune writes (ties joined)."""
    from mgen.core.contracts.tokenizer import to_midi
    from mgen.formats.m21 import parse
    from mgen.plugins.tokenizers.abc_char import AbcCharTokenizer

    tok = AbcCharTokenizer()
    tunes = tok.read(music21_corpus / "oneills1850" / "0001-0050.abc")
    graced = [t for t in tunes[:12] if "{" in "".join(t)]
    assert len(graced) >= 5
    for i, tune in enumerate(graced):
        midi = pretty_midi.PrettyMIDI(str(to_midi(tok, tune, tmp_path / f"{i}.mid")))
        quarter = 60 / midi.get_tempo_changes()[1][0]
        longest = max(n.end - n.start for n in midi.instruments[0].notes) / quarter
        written = parse(tok.text(tune), "abc").stripTies().flatten().notes
        assert longest <= max(float(n.quarterLength) for n in written) + 1e-6, "".join(tune[:40])
