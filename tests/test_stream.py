"""Streaming (`api.stream`, `mgen sample --stream`): the same tokens, piece and notes as the batch
path for the same seed, for every shipped model; stopping; the notes read from tokens."""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import replace
from pathlib import Path

import pytest

from mgen import api
from mgen.core.contracts import controls
from mgen.core.contracts.live import has_score, piece_score
from mgen.core.sampling.stream import Finished, Note, Token, pitch_name, score_notes

SHIPPED = ["folk-abc", "palestrina-kern", "bach-midi", "bach-satb"]
PRIMERS = {"folk-abc": "M:6/8\nK:D\nA|dfa", "bach-midi": "tempo_100 60 d4 t4 62 d4 t4"}


@pytest.fixture(scope="module")
def runs():
    return {name: api.load_run(name) for name in SHIPPED}


def _order(notes: list[Note]) -> list[Note]:
    """In the order of the piece, the primer flag left aside."""
    return sorted(
        (replace(n, primer=False) for n in notes), key=lambda n: (n.onset, n.track, n.pitch)
    )


def _batch_notes(run, piece: list[str]) -> list[Note]:
    return score_notes(piece_score(run.tokenizer, controls.strip(piece)))


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("grammar", [True, False])
def test_a_stream_gives_the_batch_tokens_piece_and_notes_for_the_same_seed(
    runs, name, grammar, tmp_path: Path
):
    run, primer = runs[name], PRIMERS.get(name)
    events = list(api.stream(run, 150, "temperature", seed=3, grammar=grammar, primer=primer))
    batch = api.sample(run, 150, 1, "temperature", seed=3, grammar=grammar, primer=primer,
                       out=tmp_path)  # fmt: skip
    piece, finished = batch.pieces[0], events[-1]
    assert isinstance(finished, Finished) and finished.piece == piece
    opening = api.sampling.opening(run, primer)
    tokens = [e.text for e in events if isinstance(e, Token)]
    assert piece == opening + tokens[: len(piece) - len(opening)]
    notes = [e for e in events if isinstance(e, Note)]
    assert notes and len({n.key() for n in notes}) == len(notes)  # each note once
    assert _order(notes) == _batch_notes(run, piece) == _order(finished.notes)
    primed = {n.key() for n in _batch_notes(run, opening)}
    assert {n.key() for n in notes if n.primer} == primed  # the primer's notes, marked
    midi = next((p for p in batch.paths if p.suffix == ".mid"), None)
    if run.tokenizer.format.suffix == ".mid":  # what the batch wrote, read back, note for note
        from mgen.formats.midi.read import read_midi

        score = read_midi(midi)
        written = sorted((int(p), float(o), float(d)) for t in score.tracks
                         for p, o, d in zip(t.pitch, t.onset, t.duration, strict=True))  # fmt: skip
        assert sorted((n.pitch, n.onset, n.duration) for n in notes) == written


def test_every_shipped_tokenizer_reads_notes_in_memory(runs):
    assert all(has_score(run.tokenizer) for run in runs.values())


def test_stop_ends_the_stream_with_the_piece_so_far(runs):
    run = runs["bach-midi"]
    events = api.stream(run, 400, "temperature", seed=1)
    seen: list[str] = []
    for event in events:
        if isinstance(event, Token):
            seen.append(event.text)
            if len(seen) == 60:
                events.stop()
        elif isinstance(event, Finished):
            break
    assert event.steps == 60 and not event.ended
    assert seen[: len(event.piece)] == event.piece  # cut where it could have ended
    assert event.notes == _batch_notes(run, event.piece)


def test_closing_a_stream_stops_sampling(runs):
    events = api.stream(runs["folk-abc"], 400, "temperature", seed=1)
    first = next(e for e in events if isinstance(e, Token))
    events.close()
    assert first.index == 0 and next(events, None) is None


def test_a_stream_checks_its_request_before_the_first_event(runs):
    from mgen.core.contracts.errors import ConfigError, PluginError

    with pytest.raises(ConfigError):
        api.stream(runs["folk-abc"], 0)
    with pytest.raises(PluginError):
        api.stream(runs["folk-abc"], 10, "no-such-decoder")


def test_pitch_names_count_octaves_from_middle_c_as_c4():
    assert [pitch_name(p) for p in (60, 61, 69, 21, 108)] == ["C4", "C#4", "A4", "A0", "C8"]


def test_sample_stream_prints_the_notes_of_the_written_piece(cli, runs, tmp_path: Path):
    from mgen.cli.live import note_line

    result = cli("sample", "--run", "bach-satb", "-n", "120", "--seed", "2", "--stream",
                 "--out", tmp_path / "s")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    printed = [ln for ln in result.stdout.splitlines() if ln.endswith(("Soprano", "Alto",
               "Tenor", "Bass"))]  # fmt: skip
    run = runs["bach-satb"]
    piece = api.sample(run, 120, 1, seed=2, out=tmp_path / "b").pieces[0]
    assert sorted(printed) == sorted(note_line(n) for n in _batch_notes(run, piece))
    assert (tmp_path / "s" / "sample-001.mid").is_file()


def test_sample_stream_refuses_several_samples(cli):
    result = cli("sample", "--run", "folk-abc", "--stream", "-k", "2")
    assert result.exit_code != 0 and "--stream samples one piece" in result.stderr


def test_the_first_ctrl_c_stops_the_stream_and_the_second_interrupts():
    from mgen.cli.live import _stop_on_interrupt

    stopped = []
    # Python's own Ctrl-C, even where the tests were started in the background (SIGINT ignored).
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    with contextlib.ExitStack() as stack:
        stack.callback(signal.signal, signal.SIGINT, before)
        stack.enter_context(_stop_on_interrupt(lambda: stopped.append(True)))
        os.kill(os.getpid(), signal.SIGINT)
        assert stopped == [True]
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
