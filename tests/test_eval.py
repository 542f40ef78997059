"""`mgen eval`: validity, divergence, repetition and novelty on real files; held-out loss."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
from conftest import TINY, write_midi
from typer.testing import CliRunner

from mgen.cli.app import app
from mgen.core.contracts.errors import DataError
from mgen.core.contracts.tokenizer import Tokenizer
from mgen.evaluate import metrics
from mgen.evaluate.notes import read_pieces, read_with
from mgen.formats.abc.notes import abc_tunes, read_text
from mgen.formats.score import make_piece

#: Key-normalized pitch-class JSD under which samples "sound like" the reference. Ten real
#: tunes against other tunes of their collection measure 0.013-0.028 (Essen erk5, kinder0,
#: han1); 200 random notes of one chromatic octave measure 0.14-0.27 against the same tunes.
JSD_REAL = 0.05


def _tunes(corpus: Path, name: str) -> list[str]:
    return abc_tunes(read_text(corpus / "essenFolksong" / name))


@pytest.fixture(scope="module")
def folk(tmp_path_factory, music21_corpus: Path) -> dict[str, Path]:
    """Ten real Essen children's songs, one per file, and a reference of other songs of the
    same collection (and, separately, the first of the ten written back verbatim)."""
    root = tmp_path_factory.mktemp("folk")
    tunes = _tunes(music21_corpus, "kinder0.abc")
    samples = root / "samples"
    samples.mkdir()
    for i, tune in enumerate(tunes[:10]):
        (samples / f"tune-{i:02d}.abc").write_text(tune, encoding="utf-8")
    reference = root / "reference.abc"
    reference.write_text("\n".join(tunes[10:]), encoding="utf-8")
    return {"samples": samples, "reference": reference, "root": root}


def _eval(tmp_path: Path, *args) -> dict:
    out = tmp_path / "eval.json"
    result = CliRunner().invoke(app, ["eval", *map(str, args), "--json", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())


def test_real_tunes_are_valid_and_close_to_their_collection(folk, cli, tmp_path):
    out = tmp_path / "eval.json"
    result = cli(
        "eval",
        folk["samples"],
        "--reference",
        folk["reference"],
        "--reference-limit",
        "30",
        "--json",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "pitch-class JSD" in result.stdout and "valid" in result.stdout
    abc = json.loads(out.read_text())["formats"]["abc-char"]
    assert (abc["files"], abc["valid"], abc["validity"]) == (10, 10, 1.0)
    assert abc["pitch_class_jsd"] < JSD_REAL
    assert abc["pitch_class_jsd_key"] < JSD_REAL
    assert abc["repetition"]["stuck"] == 0 and abc["repetition"]["looping"] == 0
    # The same tunes' statistics are those of their collection, within a loose margin.
    for key in ("pitch_range", "mean_duration", "scale_consistency"):
        ours, theirs = abc["stats"][key], abc["reference_stats"][key]
        assert abs(ours - theirs) <= 0.35 * theirs, key
    # Held-out real tunes share phrases with their collection, but no 16-note verbatim run.
    assert abc["novelty"]["copied"] == 0
    assert 3 <= abc["novelty"]["longest_copy_mean"] < metrics.COPY_NOTES


def test_divergence_separates_real_from_random_notes(folk, tmp_path):
    rng = np.random.default_rng(0)
    write_midi(tmp_path / "random.mid", rng.integers(60, 72, size=200))
    report = _eval(
        tmp_path,
        tmp_path / "random.mid",
        "--reference",
        folk["reference"],
        "--reference-limit",
        "30",
    )
    midi = report["formats"]["midi"]
    assert midi["validity"] == 1.0
    assert midi["pitch_class_jsd"] > 2 * JSD_REAL
    assert midi["pitch_class_jsd_key"] > 2 * JSD_REAL


def test_garbage_files_are_invalid(folk, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "noise.abc").write_text("hello world, this is not music\n<<>> ]]] (((\n")
    (bad / "noise.krn").write_text("**kern\nthis\tis\nnot kern at all\n*-\n")
    (bad / "noise.mid").write_bytes(np.random.default_rng(1).bytes(300))
    empty = pretty_midi.PrettyMIDI()
    empty.instruments.append(pretty_midi.Instrument(program=0))
    empty.write(str(bad / "empty.mid"))  # a well-formed MIDI file without notes
    for i in range(2):  # real tunes beside the garbage: validity is a share
        (bad / f"real-{i}.abc").write_text(sorted(folk["samples"].glob("*.abc"))[i].read_text())
    report = _eval(tmp_path, bad)
    f = report["formats"]
    assert (f["abc-char"]["files"], f["abc-char"]["valid"], f["abc-char"]["validity"]) == (
        3,
        2,
        2 / 3,
    )
    assert (f["kern"]["valid"], f["midi"]["files"], f["midi"]["valid"]) == (0, 2, 0)
    reasons = {Path(b["file"]).name: b["reason"] for fmt in f.values() for b in fmt["invalid"]}
    assert set(reasons) == {"noise.abc", "noise.krn", "noise.mid", "empty.mid"}
    assert "no notes" in reasons["empty.mid"]


def test_one_note_repeated_200_times_is_stuck(tmp_path):
    samples = tmp_path / "s"
    samples.mkdir()
    write_midi(samples / "stuck.mid", [62] * 200)
    write_midi(samples / "cycle.mid", [60, 64, 67] * 70)  # an arpeggio going round forever
    write_midi(samples / "scale.mid", list(range(48, 96)) + list(range(96, 48, -1)))
    rep = _eval(tmp_path, samples)["formats"]["midi"]["repetition"]
    assert rep["stuck"] == 2 and rep["stuck_share"] == pytest.approx(2 / 3)
    periods = {Path(p["piece"]).name: p["period"] for p in rep["looping_pieces"]}
    assert periods == {"stuck.mid": 1, "cycle.mid": 3}


def test_one_note_held_for_the_whole_piece_is_stuck(tmp_path):
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(program=0)
    inst.notes += [
        pretty_midi.Note(90, 60, 0, 0.5),
        pretty_midi.Note(90, 62, 0.5, 1.0),
        pretty_midi.Note(90, 64, 1.0, 40.0),
    ]
    pm.instruments.append(inst)
    pm.write(str(tmp_path / "held.mid"))
    piece = read_pieces(tmp_path / "held.mid")[0][0]
    assert metrics.held_too_long(piece) and metrics.is_stuck(piece, None)


def test_a_training_tune_written_back_verbatim_is_copied(folk, tmp_path, music21_corpus):
    reference_tunes = abc_tunes(read_text(folk["reference"]))
    samples = tmp_path / "s"
    samples.mkdir()
    # The first tune: --reference-limit spreads its choice evenly from the first to the last.
    (samples / "copy.abc").write_text(reference_tunes[0], encoding="utf-8")
    (samples / "novel.abc").write_text(_tunes(music21_corpus, "han1.abc")[0], encoding="utf-8")
    report = _eval(tmp_path, samples, "--reference", folk["reference"], "--reference-limit", "30")
    nov = report["formats"]["abc-char"]["novelty"]
    copied = {Path(c["piece"]).name: c["notes"] for c in nov["copied_pieces"]}
    melody = read_pieces(samples / "copy.abc")[0][0].melody()
    assert copied == {"copy.abc": len(melody)}  # the whole tune, and only that one
    assert nov["copied"] == 1 and nov["copied_share"] == 0.5


def test_bad_arguments_are_refused(cli, tmp_path):
    assert cli("eval").exit_code == 2
    result = cli("eval", tmp_path, "--reference", tmp_path / "nowhere")
    assert result.exit_code == 1 and "no such file, folder or dataset" in result.stderr
    assert cli("eval", tmp_path, "--reference-limit", "-1").exit_code != 0


def test_copy_index_agrees_with_brute_force():
    rng = np.random.default_rng(0)
    refs = [rng.integers(60, 66, size=rng.integers(3, 40)) for _ in range(20)]
    index = metrics.CopyIndex(refs)
    intervals = [list(np.diff(r)) for r in refs]

    def brute(m: np.ndarray) -> int:
        iv, best = list(np.diff(m)), 0
        for i in range(len(iv)):
            for j in range(i + 1, len(iv) + 1):
                sub = iv[i:j]
                if any(
                    r[s : s + len(sub)] == sub
                    for r in intervals
                    for s in range(len(r) - len(sub) + 1)
                ):
                    best = max(best, j - i)
        return best + 1

    for _ in range(30):
        melody = rng.integers(60, 66, size=rng.integers(2, 25))
        assert index.longest_copy(melody) == brute(melody)


def test_scale_consistency_and_divergence_follow_their_definitions():
    c_major = np.array([60, 62, 64, 65, 67, 69, 71, 72])
    piece = make_piece("x", [(int(p), i, 1.0) for i, p in enumerate(c_major)], 4)
    assert metrics.scale_consistency(piece) == 1.0
    chromatic = [60, 61, 62, 63, 64, 65, 66, 67]  # a score's notes are made once, not patched
    piece = make_piece("x", [(p, i, 1.0) for i, p in enumerate(chromatic)], 4)
    assert metrics.scale_consistency(piece) == pytest.approx(5 / 8)  # e.g. C major: C D E F G
    assert metrics.js_divergence([1, 0], [0, 1]) == 1.0
    assert metrics.js_divergence([3, 1], [3, 1]) == 0.0


# -- held-out loss --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, music21_corpus: Path) -> dict[str, Path]:
    """A 5-step run on German ballads; held out: Irish tunes from O'Neill's collection."""
    import shutil

    root = tmp_path_factory.mktemp("heldout")
    train, held = root / "train", root / "held"
    train.mkdir()
    held.mkdir()
    shutil.copy(music21_corpus / "essenFolksong" / "ballad10.abc", train)
    shutil.copy(music21_corpus / "oneills1850" / "0001-0050.abc", held)
    run = root / "run"
    result = CliRunner().invoke(
        app, ["train", "--data", str(train), "--out", str(run), "--max-steps", "5", *TINY]
    )
    assert result.exit_code == 0, result.output
    return {"run": run, "train": train, "held": held}


def test_heldout_loss_on_a_folder_the_run_never_saw(tiny_run, cli, tmp_path):
    from mgen.core.runs.rundir import load_tokenizer

    out = tmp_path / "loss.json"
    result = cli("eval", "--run", tiny_run["run"], "--data", tiny_run["held"], "--json", out)
    assert result.exit_code == 0, result.output
    assert "bits/token" in result.stdout and "unknown symbols" in result.stdout
    r = json.loads(out.read_text())
    assert math.isfinite(r["loss_nats"]) and r["loss_nats"] > 0
    assert r["loss_bits"] == pytest.approx(r["loss_nats"] / math.log(2))
    assert 0 <= r["accuracy"] <= 1
    assert r["training_overlap"] == 0 and r["pieces"] > 10
    # Unknown symbols, counted independently: characters of the held-out tunes not in the vocab.
    _, tok = load_tokenizer(tiny_run["run"])
    tokens = [t for piece in tok.read(next(tiny_run["held"].iterdir())) for t in piece]
    expected = sum(t not in tok.vocab for t in tokens)
    assert expected > 0  # O'Neill's Irish tunes use symbols the German ballads lack
    assert r["unknown_tokens"] == expected
    assert r["unknown_share"] == pytest.approx(expected / len(tokens))


def test_heldout_loss_warns_when_the_data_was_trained_on(tiny_run, cli):
    result = cli("eval", "--run", tiny_run["run"], "--data", tiny_run["train"])
    assert result.exit_code == 0
    assert "were in the run's training data" in result.stdout


def test_heldout_needs_data_and_no_sample_paths(tiny_run, cli, tmp_path):
    assert cli("eval", "--run", tiny_run["run"]).exit_code == 2
    assert cli("eval", tmp_path, "--run", tiny_run["run"], "--data", tmp_path).exit_code == 2


@pytest.mark.slow
def test_sample_eval_and_wav_judge_and_render_what_it_wrote(tiny_run, cli, tmp_path):
    import shutil

    from mgen.evaluate.render import find_soundfont

    out = tmp_path / "samples"
    wav = ["--wav"] if shutil.which("fluidsynth") and find_soundfont() else []
    result = cli(
        "sample",
        "--run",
        tiny_run["run"],
        "-n",
        "120",
        "-k",
        "2",
        "--out",
        out,
        "--device",
        "cpu",
        "--eval",
        *wav,
    )
    assert result.exit_code == 0, result.output
    assert f"reference: {tiny_run['train']}" in result.stdout and "stuck" in result.stdout
    assert "abc-char: 2 file(s)" in result.stdout
    if wav:
        assert sorted(p.name for p in out.glob("*.wav")) == ["sample-001.wav", "sample-002.wav"]


# -- any tokenizer's format -------------------------------------------------------------------


class ToyTokenizer(Tokenizer):
    """A third-party format with only read/write/to_midi: MIDI pitches, a blank line between
    pieces. mgen finds its notes by writing each piece as MIDI. Written to the 0.1 contract
    (file_patterns, suffix, to_midi on the tokenizer), which is honoured for one release."""

    file_patterns = ("*.toy",)
    suffix = ".toy"

    def read(self, path: Path) -> list[list[str]]:
        blocks = Path(path).read_text().split("\n\n")
        return [b.split() for b in blocks if b.split()]

    def write(self, tokens: list[str], path: Path) -> Path:
        path = Path(path).with_suffix(self.suffix)
        path.write_text(" ".join(tokens))
        return path

    def to_midi(self, tokens: list[str], path: Path) -> Path:
        if "x" in tokens:
            raise DataError("x is no pitch")
        return write_midi(Path(path).with_suffix(".mid"), [int(t) for t in tokens], step=0.5)


def test_a_format_without_a_note_reader_is_read_through_its_midi(tmp_path):
    path = tmp_path / "two.toy"
    path.write_text("60 62 64 65\n\n67 x 69\n\n72 71\n")
    pieces, errors = read_with(ToyTokenizer.format, path)
    assert [p.pitch.tolist() for p in pieces] == [[60, 62, 64, 65], [72, 71]]
    assert [p.name for p in pieces] == [f"{path}#1", f"{path}#3"]
    assert errors == ["piece 2: x is no pitch"]
    assert pieces[0].onset.tolist() == [0, 1, 2, 3]  # 0.5 s at 120 bpm: one beat each
    first, _ = read_with(ToyTokenizer.format, path, limit=1)
    assert [p.name for p in first] == [f"{path}#1"]
    (tmp_path / "one.toy").write_text("60 60")
    assert read_with(ToyTokenizer.format, tmp_path / "one.toy")[0][0].name == str(
        tmp_path / "one.toy"
    )


@pytest.fixture
def toy_installed(monkeypatch):
    """The toy tokenizer as if it were an installed plugin, beside the real ones."""
    from mgen.core.contracts import formats as find

    real = find._plugins()
    monkeypatch.setattr(find, "_plugins", lambda: [*real, ("toy", ToyTokenizer)])


def test_a_plugin_format_is_judged_and_rendered(toy_installed, tmp_path):
    from mgen.evaluate.render import render_files
    from mgen.evaluate.report import evaluate_files

    samples = tmp_path / "samples"
    samples.mkdir()
    (samples / "a.toy").write_text(" ".join(["62"] * 40))
    (samples / "b.toy").write_text("60 62 64 65 67")
    toy = evaluate_files([samples])["formats"]["toy"]
    assert (toy["files"], toy["valid"], toy["notes"]) == (2, 2, 45)
    assert toy["repetition"]["stuck_pieces"] == [str((samples / "a.toy").resolve())]
    written = render_files([samples / "b.toy"], png=True, musicxml=True, out=tmp_path / "out")
    assert [p.name for p in written] == ["b.png", "b.musicxml"]
    assert read_pieces(written[1])[0][0].pitch.tolist() == [60, 62, 64, 65, 67]


def test_files_nothing_reads_are_refused_with_what_can_be(tmp_path):
    from mgen.evaluate.report import evaluate_files

    (tmp_path / "notes.foo").write_text("60 62")
    with pytest.raises(DataError, match=r"cannot read \.foo files; readable: .*\.abc.*\.krn"):
        evaluate_files([tmp_path / "notes.foo"])


def test_sampled_files_are_judged_against_the_runs_training_data(tiny_run):
    from mgen.core.runs.run import load_run
    from mgen.evaluate.report import evaluate_run_samples

    run = load_run(tiny_run["run"])
    sample = next(tiny_run["train"].iterdir())
    report = evaluate_run_samples([sample, sample], run)
    assert report["reference"]["source"] == str(tiny_run["train"])
    assert report["formats"]["abc-char"]["files"] == 1


def test_heldout_loss_of_a_loaded_run_is_the_clis(tiny_run, tmp_path):
    from mgen.core.runs.run import load_run
    from mgen.evaluate.heldout import heldout_loss

    args = ["--run", tiny_run["run"], "--data", tiny_run["held"], "--device", "cpu"]
    cli_loss = _eval(tmp_path, *args)["loss_nats"]
    ours = heldout_loss(load_run(tiny_run["run"]), [str(tiny_run["held"])], log=lambda _: None)
    assert ours["loss_nats"] == pytest.approx(cli_loss, rel=1e-6)
