"""The miditok tokenizer (mgen[miditok]): MidiTok's single-stream tokenizations and learned
vocabularies, read from and written to real MIDI files, and trained, sampled, judged and rendered
from the CLI. The tests parametrized over every registered tokenizer (fuzzing, atomic writes,
the contract, settings) include it too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mgen.core.contracts import registry
from mgen.core.contracts.errors import ConfigError
from mgen.core.data.prepare import build_tokenizer, run_split

pytest.importorskip("miditok", reason="the miditok extra is not installed")

TOKENIZATIONS = ["REMI", "TSD", "Structured", "MIDILike", "MMM", "BEAT"]
TINY = ["--model", "lstm", "--hidden-size", "32", "--embed-dim", "16", "--quiet"]


def _tok(**options):
    return build_tokenizer("miditok", options)


@pytest.fixture(scope="module")
def midi_files(tmp_path_factory, music21_corpus: Path) -> list[Path]:
    """Six Bach chorales written as MIDI by the bach-midi builder: one track per voice."""
    from mgen.plugins.datasets.bach_midi import build_midi_dataset

    names = ["bwv1.6", "bwv10.7", "bwv101.7", "bwv102.7", "bwv103.6", "bwv104.6"]
    sources = [music21_corpus / "bach" / f"{n}.mxl" for n in names]
    dest = tmp_path_factory.mktemp("miditok-bach")
    return build_midi_dataset(sources, music21_corpus, dest, workers=1)


@pytest.mark.parametrize("tokenization", TOKENIZATIONS)
def test_a_written_piece_reads_back_as_its_tokens(tokenization: str, midi_files, tmp_path):
    tok = _tok(tokenization=tokenization)
    for f in midi_files[:3]:
        tokens = tok.read(f)[0]
        assert tok.count_notes(tokens) > 20
        written = tok.write(tokens, tmp_path / f.stem)
        assert written.suffix == ".mid"
        assert tok.read(written)[0] == tokens, f"{tokenization}: {f.name}"


def test_programs_keep_each_voice_in_one_stream(midi_files, tmp_path):
    """With use_programs, one stream with Program tokens: the four voices come back as tracks."""
    import symusic

    tok = _tok(use_programs=True)
    tokens = tok.read(midi_files[0])[0]
    assert any(t.startswith("Program_") for t in tokens)
    out = symusic.Score(str(tok.write(tokens, tmp_path / "voices")))
    assert tok.read(tmp_path / "voices.mid")[0] == tokens
    assert len([t for t in out.tracks if len(t.notes)]) >= 1


@pytest.mark.parametrize("learn", ["BPE", "Unigram"])
def test_a_learned_vocabulary_stands_for_the_base_tokens(learn: str, midi_files, tmp_path):
    base = _tok()
    pieces = [base.read(f)[0] for f in midi_files]
    tok = _tok(vocab_size=600, learn=learn)
    assert tok.learn(pieces[:4])
    learned = tok.read(midi_files[5])[0]
    assert all(learned), "a token that stands for no base token"
    assert len(learned) < 0.8 * len(pieces[5])  # merges shorten a piece
    assert tok.base_tokens(learned) == pieces[5]
    assert tok.count_notes(learned) == base.count_notes(pieces[5])
    written = tok.write(learned, tmp_path / "learned")
    assert base.read(written)[0] == pieces[5]
    again = _tok(vocab_size=600, learn=learn)  # what a run's tokenizer.json brings back
    again.load_extra_state(json.loads(json.dumps(tok.extra_state())))
    assert again.read(midi_files[5])[0] == learned


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"tokenization": "CPWord"}, "multi-stream"),
        ({"tokenization": "Octuple"}, "multi-stream"),
        ({"tokenization": "REMIX"}, "available: "),
        ({"learn": "WordPiece"}, "BPE, Unigram"),
        ({"options": "[1]"}, "JSON object"),
        ({"options": '{"beat_res": 5}'}, "MidiTok refused"),
    ],
)
def test_settings_it_cannot_take_are_one_clear_error(options, words):
    with pytest.raises(ConfigError, match=words) as info:
        _tok(**options)
    assert "\n" not in str(info.value)


def test_beat_ranges_are_written_as_midi_tok_saves_them(midi_files):
    """`-T options='{"beat_res": {"0_4": 4, "4_12": 2}}'`: a coarser grid, fewer positions."""
    fine = _tok()
    coarse = _tok(options=json.dumps({"beat_res": {"0_4": 4, "4_12": 2}}))
    positions = {t for t in coarse.base.vocab if t.startswith("Position_")}
    assert len(positions) < len({t for t in fine.base.vocab if t.startswith("Position_")})
    assert coarse.read(midi_files[0])[0]
    with pytest.raises(ConfigError, match="A_B"):
        _tok(options=json.dumps({"beat_res": {"0-4": 4}}))


def test_a_multi_stream_tokenization_is_refused_in_one_line(cli, midi_files, tmp_path):
    r = cli("train", "--tokenizer", "miditok", "-T", "tokenization=Octuple", "--data",
            midi_files[0].parent, "--out", tmp_path / "run", *TINY)  # fmt: skip
    assert r.exit_code != 0 and "Traceback" not in r.output
    errors = [ln for ln in r.output.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and "multi-stream" in errors[0], r.output


@pytest.fixture(scope="module")
def bpe_run(midi_files, tmp_path_factory) -> Path:
    from typer.testing import CliRunner

    from mgen.cli.app import app

    out = tmp_path_factory.mktemp("miditok-run") / "run"
    args = ["train", "--tokenizer", "miditok", "-T", "tokenization=REMI", "-T", "vocab_size=500",
            "--data", str(midi_files[0].parent), "--val-fraction", "0.34", "--max-steps", "4",
            "--out", str(out), *TINY]  # fmt: skip
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


def test_the_vocabulary_is_learned_from_the_training_split_only(bpe_run: Path):
    """The run's learned model is the one learned from its training pieces: the split it
    trained on, read again with a fresh tokenizer. Learned from every piece, it differs."""
    saved = json.loads((bpe_run / "tokenizer.json").read_text())
    config = json.loads((bpe_run / "config.json").read_text())
    fresh = build_tokenizer("miditok", saved["config"])
    split = run_split(config, fresh, log=lambda _: None)
    assert len(split.val) >= 1
    train_pieces = [split.corpus.piece(int(i)) for i in split.train]
    every_piece = [split.corpus.piece(i) for i in range(len(split.corpus))]
    assert fresh.learn(train_pieces)
    assert fresh.extra_state() == saved["extra"]
    assert fresh.learn(every_piece)
    assert fresh.extra_state() != saved["extra"]


def test_train_sample_judge_and_render_from_the_cli(cli, bpe_run: Path, tmp_path: Path):
    r = cli("sample", "--run", bpe_run, "-k", "2", "-n", "150", "--seed", "1",
            "--out", tmp_path / "samples")  # fmt: skip
    assert r.exit_code == 0, r.output
    written = sorted((tmp_path / "samples").glob("*.mid"))
    assert written, r.output
    r = cli("eval", tmp_path / "samples")
    assert r.exit_code == 0, r.output
    assert "valid" in r.output and "midi:" in r.output
    r = cli("render", written[0], "--png", "--out", tmp_path / "pictures")
    assert r.exit_code == 0, r.output
    assert list((tmp_path / "pictures").glob("*.png"))


def test_a_run_reads_files_in_its_learned_tokens(bpe_run: Path, midi_files):
    """Primers, judging and fine-tuning read files through the run's tokenizer: the learned
    tokens, every one in the vocabulary."""
    import mgen

    run = mgen.load_run(bpe_run)
    tokens = run.tokenizer.read(midi_files[0])[0]
    assert any("+" in t for t in tokens)
    assert all(t and t in run.tokenizer.vocab for t in tokens)  # no empty "bar mark" token


@pytest.mark.slow
def test_two_gloo_processes_learn_one_vocabulary(bpe_run: Path, midi_files, tmp_path: Path):
    """Under torchrun each rank learns, then takes the main process's model: both train on
    the vocabulary a single process learns."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "mgen", "train", "--tokenizer", "miditok", "-T", "vocab_size=500", "-T",
           "learn=BPE", "--data", str(midi_files[0].parent), "--val-fraction", "0.34",
           "--max-steps", "2", "--device", "cpu", "--out", str(tmp_path / "ddp"), *TINY]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    ddp = json.loads((tmp_path / "ddp" / "tokenizer.json").read_text())
    single = json.loads((bpe_run / "tokenizer.json").read_text())
    assert ddp["extra"] == single["extra"] and ddp["vocab"] == single["vocab"]


def test_it_is_registered_as_the_built_ins_are():
    assert "miditok" in registry.names("tokenizer")
    assert registry.plugin_distribution("tokenizer", "miditok") == registry.BUILTIN
