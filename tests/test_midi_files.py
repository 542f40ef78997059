"""What the MIDI tokenizers (midi-notes, midi-chords, midi-tracks) must do with real and broken
files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi
import pytest

MIDI_TOKENIZERS = ["midi-notes", "midi-chords", "midi-tracks", "miditok"]


def piano_files(shared_data: Path, n: int) -> list[Path]:
    """The n smallest piano-midi.de files (quick to parse)."""
    files = sorted((shared_data / "piano-midi").rglob("*.mid"), key=lambda f: f.stat().st_size)
    return files[:n]


def garbage(folder: Path, real: Path) -> None:
    """An empty file, a truncated MIDI file and random bytes, all named .mid."""
    (folder / "empty.mid").write_bytes(b"")
    data = real.read_bytes()
    (folder / "truncated.mid").write_bytes(data[: len(data) // 2])
    (folder / "noise.mid").write_bytes(np.random.default_rng(0).bytes(3000))


def _tiny(tokenizer: str) -> list[str]:
    return ["--tokenizer", tokenizer, "--max-steps", "3", "--hidden-size", "32", "--quiet"]


@pytest.mark.parametrize("tokenizer", MIDI_TOKENIZERS)
def test_train_skips_bad_files(cli, shared_data: Path, tmp_path: Path, tokenizer: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    real = piano_files(shared_data, 3)
    for f in real:
        (data / f.name).write_bytes(f.read_bytes())
    garbage(data, real[0])
    result = cli("train", *_tiny(tokenizer), "--data", data, "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: skipped")]
    assert sorted(Path(w.split()[2].rstrip(":")).name for w in warnings) == [
        "empty.mid",
        "noise.mid",
        "truncated.mid",
    ]
    assert "skipped 3 of 6 files" in result.stderr


@pytest.mark.parametrize("tokenizer", MIDI_TOKENIZERS)
def test_train_on_only_garbage_fails_clearly(cli, shared_data: Path, tmp_path, tokenizer) -> None:
    garbage(tmp_path, piano_files(shared_data, 1)[0])
    result = cli("train", *_tiny(tokenizer), "--data", tmp_path, "--out", tmp_path / "run")
    assert result.exit_code != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "no usable piece in 3 file(s)" in errors[0]
    assert "Traceback" not in result.output


@pytest.mark.slow
@pytest.mark.parametrize("tokenizer", MIDI_TOKENIZERS)
def test_lstm2_then_argmax_writes_midi_with_notes(cli, shared_data: Path, tmp_path, tokenizer):
    """`mgen train --tokenizer T --model lstm2`, then `mgen sample --decoder argmax -n 200`:
    the MIDI written has notes, and (midi-notes) no two notes of one pitch overlap."""
    from test_midi_notes import assert_no_overlaps

    data = tmp_path / "data"
    data.mkdir()
    for f in piano_files(shared_data, 30)[20:]:  # ten short pieces, a few thousand tokens
        (data / f.name).symlink_to(f)
    run = tmp_path / "run"
    # Enough to learn the grammar (pitch, d, t): an untrained model's argmax picks only t/d.
    args = f"--tokenizer {tokenizer} --model lstm2 --max-steps 60 --lr 0.01 --hidden-size 64"
    result = cli("train", *args.split(), "--quiet", "--data", data, "--out", run)
    assert result.exit_code == 0, result.output
    out = tmp_path / "samples"
    result = cli("sample", "--run", run, "--decoder", "argmax", "-n", "200", "--out", out)
    assert result.exit_code == 0, result.output
    [mid] = {Path(p) for p in result.stdout.split() if p.endswith(".mid")}
    assert sum(len(i.notes) for i in pretty_midi.PrettyMIDI(str(mid)).instruments) > 0
    if tokenizer == "midi-notes":
        assert_no_overlaps(mid)


@pytest.mark.parametrize(
    ("tokenizer", "everything", "piano"),
    [("midi-notes", ["60", "d4", "72", "d4"], ["60", "d4"]), ("midi-chords", ["60.72"], ["60"])],
)
def test_piano_only_drops_other_programs(tmp_path: Path, tokenizer, everything, piano) -> None:
    from mgen.core.data.prepare import build_tokenizer

    pm = pretty_midi.PrettyMIDI()
    for program, pitch in ((0, 60), (40, 72)):  # a piano and a violin
        inst = pretty_midi.Instrument(program)
        inst.notes.append(pretty_midi.Note(80, pitch, 0.0, 0.5))
        pm.instruments.append(inst)
    drums = pretty_midi.Instrument(0, is_drum=True)
    drums.notes.append(pretty_midi.Note(80, 36, 0.0, 0.5))
    pm.instruments.append(drums)
    pm.write(str(tmp_path / "mix.mid"))
    tokens = build_tokenizer(tokenizer, {}).read(tmp_path / "mix.mid")[0][1:]
    assert [t for t in tokens if not t.startswith("t")][: len(everything)] == everything
    only = build_tokenizer(tokenizer, {"piano_only": True}).read(tmp_path / "mix.mid")[0][1:]
    assert [t for t in only if not t.startswith("t")][: len(piano)] == piano
