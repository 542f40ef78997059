"""A tokenizer's training defaults resolved in one function, and batches that declare their layout."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY, mgen

from mgen.core.data import batches
from mgen.core.data.augment import Transposed, transposed_counts, transposing
from mgen.core.training.defaults import resolve
from mgen.core.training.train_config import TrainConfig
from mgen.plugins.tokenizers.abc_char import AbcCharTokenizer
from mgen.plugins.tokenizers.kern import KernTokenizer
from mgen.plugins.tokenizers.midi_notes import MidiNotesConfig, MidiNotesTokenizer


def test_resolve_fills_what_is_left_to_the_recipe_and_keeps_what_is_given() -> None:
    tok = KernTokenizer()
    done = resolve(TrainConfig(tokenizer="kern"), tok)
    assert (done.time_budget, done.seq_len, done.batching) == (600.0, 63, "piece-lanes")
    assert resolve(done, tok) == done  # resolving twice is once
    given = TrainConfig(tokenizer="kern", max_steps=5, seq_len=32, batching="lanes")
    assert resolve(given, tok) == given
    assert resolve(TrainConfig(), AbcCharTokenizer(), carries_state=False).batching == "windows"
    assert resolve(given, tok, carries_state=False).batching == "windows"


def test_each_batches_class_declares_its_layout() -> None:
    stream = np.tile(np.array([1, 5, 6, 7, 2], dtype=np.uint16), 8)
    pieces = [np.array([1, 5, 6, 2]), np.array([1, 7, 2])]
    assert batches.Windows(stream, 4, 2).layout == batches.WINDOWS
    assert batches.Streams(stream, 4, 2).layout == batches.LANES
    assert batches.Streams(stream, 4, 2, aligned=True).layout == batches.PIECE_LANES
    assert batches.PieceBatches(pieces, 4, 2).layout == batches.PIECES
    assert not batches.WINDOWS.carries_state and batches.PIECE_LANES.fresh_at_start
    assert [lay.name for lay in (batches.LANES, batches.PIECES)] == ["lanes", "pieces"]


def test_transposition_wraps_the_batches_and_keeps_their_plan() -> None:
    tok = MidiNotesTokenizer(MidiNotesConfig(transpose="-2..2"))
    tok.fit(transposed_counts(tok, Counter(["tempo_120", "60", "d4", "64", "t4"])))
    v = tok.vocab
    piece = [v.start_id, *v.encode(["tempo_120", "60", "d4", "64", "t4"]), v.end_id]
    base = batches.Streams(np.asarray(piece * 6, dtype=np.uint16), 4, 2, aligned=False)
    moved = transposing(base, tok, v)
    assert isinstance(moved, Transposed) and moved.base is base
    assert type(base) is batches.Streams  # the batches themselves are not changed
    assert moved.layout == base.layout and moved.batches_per_epoch() == base.batches_per_epoch()
    assert [moved.carry_plan(0, 0, b) for b in range(3)] == [
        base.carry_plan(0, 0, b) for b in range(3)
    ]


def _trained(cli, abc_folder: Path, run: Path) -> None:
    at = TINY.index("--seq-len")
    tiny = TINY[:at] + TINY[at + 2 :]  # the recipe's window
    result = cli("train", "--data", abc_folder, "--out", run, "--max-steps", "2", *tiny)
    assert result.exit_code == 0, result.output


def test_a_run_records_its_resolved_settings_and_resumes_with_its_own_command(
    cli, abc_folder: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    _trained(cli, abc_folder, run)
    config = json.loads((run / "config.json").read_text())
    recipe = AbcCharTokenizer.recipe
    assert config["train"]["batching"] == recipe.batching == config["data"]["batching"]
    assert config["train"]["seq_len"] == recipe.seq_len
    again = ["--batching", "auto", "--seq-len", "0", "--max-steps", "3", "--quiet"]
    result = cli("train", "--resume", "--out", run, *again)
    assert result.exit_code == 0, result.output
    result = cli("train", "--resume", "--out", run, "--batching", "lanes", "--max-steps", "4")
    assert result.exit_code != 0 and "--batching lanes (the run: piece-lanes)" in result.output


@pytest.mark.parametrize("typed", [["--batching", "auto"], ["--batching", "piece-lanes"]])
def test_a_run_saved_with_auto_resumes_as_it_resolved(
    cli, abc_folder: Path, tmp_path: Path, typed: list[str]
) -> None:
    run = tmp_path / "run"
    _trained(cli, abc_folder, run)
    path = run / "config.json"
    config = json.loads(path.read_text())
    config["train"].update(batching="auto", seq_len=0)  # as runs were written before resolving
    path.write_text(json.dumps(config))
    result = cli("train", "--resume", "--out", run, "--max-steps", "3", "--quiet", *typed)
    assert result.exit_code == 0, result.output


def test_a_small_corpus_is_told_the_init_command_of_a_shipped_model(testd_abc, tmp_path):
    """`mgen train` on a few tunes names the shipped model that reads abc-char and the command
    that fine-tunes it; fine-tuning (--init) is not told."""
    code, out = mgen("train", "--data", testd_abc, "--out", tmp_path / "a", "--max-steps", "1",
                     *TINY)  # fmt: skip
    assert code == 0, out
    assert "is a small corpus" in out and f"mgen train --init folk-abc --data {testd_abc}" in out
    code, out = mgen("train", "--init", "folk-abc", "--data", testd_abc, "--out", tmp_path / "b",
                     "--max-steps", "1", "--batch-size", "8", "--quiet")  # fmt: skip
    assert code == 0, out
    assert "small corpus" not in out
