"""Infilling (issue 29, part 2) on real corpus files: the fill-in-the-middle training layout,
`mgen train --infill`, `mgen sample --infill FILE --bars A-B` keeping the ABC header and every
bar outside the span, a MIDI infill keeping every note outside it, and one-line refusals."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from mgen.core.contracts import infill
from mgen.core.data.infill import rewrite
from mgen.plugins.tokenizers.abc_char import AbcCharTokenizer
from mgen.plugins.tokenizers.midi_chords import MidiChordsTokenizer
from tests.conftest import TINY, assert_one_line_error, mgen


@pytest.fixture(scope="module")
def tune(tmp_path_factory, music21_corpus: Path) -> Path:
    folder = tmp_path_factory.mktemp("abc")
    shutil.copy(music21_corpus / "essenFolksong" / "ballad10.abc", folder)
    return folder / "ballad10.abc"


@pytest.fixture(scope="module")
def abc_run(tmp_path_factory, tune: Path) -> Path:
    run = tmp_path_factory.mktemp("runs") / "abc"
    code, out = mgen("train", "--tokenizer", "abc-char", "--data", tune.parent, "--infill",
                     "--max-steps", "3", "--out", run, *TINY)  # fmt: skip
    assert code == 0, out
    return run


def bars(tok, tokens: list[str]) -> list[str]:
    """The text of every bar, in order."""
    sp = [o for _, o in tok.spans(tokens)]
    return ["".join(tokens[a:b]) for a, b in zip(sp, sp[1:], strict=False)]


def test_fim_layout_cuts_on_bar_lines(tune: Path):
    tok = AbcCharTokenizer()
    piece = tok.read(tune)[0]
    bounds = {o for _, o in tok.spans(piece)} | {len(piece)}
    for seed in range(20):
        out = rewrite(tok, piece, np.random.default_rng(seed))
        assert out[0] == infill.SUFFIX and out.count(infill.MIDDLE) == 1
        s, p, m = out.index(infill.SUFFIX), out.index(infill.PREFIX), out.index(infill.MIDDLE)
        suffix, prefix, middle = out[s + 1 : p], out[p + 1 : m], out[m + 1 :]
        assert prefix + middle + suffix == piece
        assert len(prefix) in bounds and len(prefix) + len(middle) in bounds


def test_run_records_infill(abc_run: Path):
    import json

    config = json.loads((abc_run / "config.json").read_text())
    assert config["train"]["infill_share"] == 0.5
    assert config["data"]["infill"]["share"] == 0.5 and config["data"]["infill"]["pieces"] > 0
    tokens = json.loads((abc_run / "tokenizer.json").read_text())["vocab"]
    assert all(s in tokens for s in infill.SENTINELS)


def test_abc_infill_keeps_header_and_bars_outside(abc_run: Path, tune: Path, tmp_path: Path):
    code, out = mgen("sample", "--run", abc_run, "--infill", tune, "--bars", "3-4", "-k", "3",
                     "-n", "120", "--out", tmp_path, "--device", "cpu")  # fmt: skip
    assert code == 0, out
    tok = AbcCharTokenizer()
    before = tok.read(tune)[0]
    header = "".join(before[: tok.spans(before)[0][1]]).strip().splitlines()
    old = bars(tok, before)
    written = sorted(tmp_path.glob("*.abc"))
    assert len(written) == 3
    for path in written:
        text = path.read_text()
        assert all(line in text.splitlines() for line in header), text
        new = bars(tok, tok.read(path)[0])
        assert new[:2] == old[:2]
        assert new[len(new) - (len(old) - 4) :] == old[4:]


def test_midi_infill_keeps_every_note_outside(chorale_midi: Path, tmp_path: Path):
    import pretty_midi

    run = tmp_path / "run"
    code, out = mgen("train", "--tokenizer", "midi-chords", "--data", chorale_midi.parent, "--infill",
                     "--infill-share", "1", "--max-steps", "2", "--out", run, *TINY)  # fmt: skip
    assert code == 0, out
    source = chorale_midi
    code, out = mgen("sample", "--run", run, "--infill", source, "--beats", "5-8", "-n", "60",
                     "--out", tmp_path / "s", "--device", "cpu")  # fmt: skip
    assert code == 0, out
    tok = MidiChordsTokenizer()
    piece = tok.read(source)[0]
    first, last = infill.cut(tok, piece, 5, 8)[0], infill.cut(tok, piece, 9, 9)[0]
    reference = tok.write(piece, tmp_path / "reference.mid")

    def notes(path: Path, keep) -> set[tuple[int, int]]:
        pm = pretty_midi.PrettyMIDI(str(path))
        beat = lambda t: round(pm.time_to_tick(t) * 4 / pm.resolution)  # noqa: E731
        return {(beat(n.start), n.pitch) for i in pm.instruments for n in i.notes
                if keep(beat(n.start))}  # fmt: skip

    end = 4 * 8  # grid steps (4 a beat) where the span ends
    outside = lambda s: s < 4 * 4 or s >= end  # noqa: E731
    want = notes(reference, outside)
    assert want and len(first) < len(last)
    got = notes(next((tmp_path / "s").glob("*.mid")), outside)
    assert want <= got


def test_refusals_are_one_line(abc_run: Path, tune: Path, tmp_path: Path):
    code, out = mgen("sample", "--run", abc_run, "--infill", tune, "--bars", "300-302",
                     "--out", tmp_path / "a")  # fmt: skip
    assert_one_line_error(code, out, "outside the piece")
    assert code == 2
    code, out = mgen("sample", "--run", abc_run, "--infill", tmp_path / "none.abc", "--bars",
                     "1-2", "--out", tmp_path / "b")  # fmt: skip
    assert_one_line_error(code, out, "cannot read")
    code, out = mgen("sample", "--run", abc_run, "--infill", tune, "--bars", "4-2")
    assert_one_line_error(code, out, "--bars")
    plain = tmp_path / "plain"
    code, out = mgen("train", "--tokenizer", "abc-char", "--data", tune.parent, "--max-steps",
                     "1", "--out", plain, *TINY)  # fmt: skip
    assert code == 0, out
    code, out = mgen("sample", "--run", plain, "--infill", tune, "--bars", "3-4")
    assert_one_line_error(code, out, "not trained for infilling")
    assert code == 2


def test_midi_tracks_infill_keeps_every_note_outside_on_its_track(chorale_midi: Path, tmp_path):
    """midi-tracks (its beats, after the header): every note outside the span keeps its
    track, time, pitch and velocity; the ensemble is the file's."""
    import pretty_midi

    from mgen.plugins.tokenizers.midi_tracks import MidiTracksTokenizer

    run = tmp_path / "run"
    code, out = mgen("train", "--tokenizer", "midi-tracks", "--data", chorale_midi.parent,
                     "--infill", "--infill-share", "1", "--max-steps", "2", "--out", run,
                     *TINY)  # fmt: skip
    assert code == 0, out
    code, out = mgen("sample", "--run", run, "--infill", chorale_midi, "--beats", "5-8", "-n",
                     "80", "-k", "2", "--out", tmp_path / "s", "--device", "cpu")  # fmt: skip
    assert code == 0, out
    tok = MidiTracksTokenizer()
    piece = tok.read(chorale_midi)[0]
    prefix = infill.cut(tok, piece, 5, 8)[0]
    assert prefix[: len(prefix) - 1] and tok.spans(piece)[0][1] > 0  # the header: never cut
    reference = tok.write(piece, tmp_path / "reference.mid")

    def notes(path: Path) -> tuple[list[str], set[tuple[int, int, int, int]]]:
        pm = pretty_midi.PrettyMIDI(str(path))
        step = lambda t: round(pm.time_to_tick(t) * 4 / pm.resolution)  # noqa: E731
        outside = {(k, step(n.start), n.pitch, n.velocity) for k, i in enumerate(pm.instruments)
                   for n in i.notes if not 4 * 4 <= step(n.start) < 4 * 8}  # fmt: skip
        return [i.name for i in pm.instruments], outside

    names, want = notes(reference)
    assert len(names) >= 4 and want
    samples = sorted((tmp_path / "s").glob("*.mid"))
    assert len(samples) == 2
    for path in samples:
        got_names, got = notes(path)
        assert got_names == names
        assert got == want


@pytest.mark.parametrize("batching", ["piece-lanes", "pieces", "windows"])
def test_training_pieces_are_cut_anew_each_epoch(tune: Path, batching: str):
    """Each epoch cuts every fill-in-the-middle piece at new bar lines drawn from (seed,
    epoch): the same tokens, in the sentinel layout, the batches' shape unchanged, and the same
    epoch cut the same way again (a resumed run reads what an uninterrupted one would)."""
    from mgen.core.data.prepare import prepare_data
    from mgen.core.data.refill import Refilled

    tok = AbcCharTokenizer()
    td = prepare_data(tok, [str(tune.parent)], seq_len=32, batch_size=2, val_fraction=0.0,
                      batching=batching, infill_share=1.0, log=lambda m: None,
                      progress=False)  # fmt: skip
    assert isinstance(td.train, Refilled) and td.train.jobs
    job = td.train.jobs[0]
    vocab = tok.vocab

    def epoch(e: int) -> tuple[list[str], list]:
        got = [(x.copy(), y.copy()) for _, (x, y) in td.train.epoch_batches(0, e)]
        return vocab.decode(job.piece.tolist()), got

    seen, shapes = set(), set()
    for e in range(1, 7):
        tokens, got = epoch(e)
        s, p, m = (tokens.index(t) for t in infill.SENTINELS)
        end = tokens.index("<end>")
        body = tokens[p + 1 : m] + tokens[m + 1 : end] + tokens[s + 1 : p]
        assert body == vocab.decode(job.body.tolist())  # the same tune, cut elsewhere
        assert s == 1  # right after <start>
        seen.add((p, m))
        shapes.add(tuple(sorted(x.shape for x, _ in got)))
        again = epoch(e)
        assert again[0] == tokens
        assert all((a[0] == b[0]).all() for a, b in zip(again[1], got, strict=True))
    assert len(seen) > 1  # the cut moves from epoch to epoch
    assert len(shapes) == 1  # and the batches keep their shape
