"""Accompaniment (issue 29, part 3): `mgen sample --accompany FILE --instruments ...` keeps the
given track of a real Bach chorale note for note and writes only the asked tracks around it,
with the shipped bach-satb model (midi-tracks); and one-line refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from tests.conftest import assert_one_line_error, mgen


def _one_track(source: Path, index: int, dest: Path) -> Path:
    """Track `index` of `source` alone, as a one-track MIDI file (tempo and meter kept)."""
    pm = pretty_midi.PrettyMIDI(str(source))
    alone = pretty_midi.PrettyMIDI(resolution=pm.resolution,
                                   initial_tempo=float(pm.get_tempo_changes()[1][0]))  # fmt: skip
    alone.time_signature_changes = pm.time_signature_changes
    alone.instruments.append(pm.instruments[index])
    alone.write(str(dest))
    return dest


def _beats(pm: pretty_midi.PrettyMIDI, inst: pretty_midi.Instrument) -> np.ndarray:
    """(pitch, start, end) of each note in ticks at 480 a beat, from the track's first onset."""
    rows = sorted((n.pitch, pm.time_to_tick(n.start) * 480 / pm.resolution,
                   pm.time_to_tick(n.end) * 480 / pm.resolution) for n in inst.notes)  # fmt: skip
    rows.sort(key=lambda r: (r[1], r[0]))
    arr = np.array(rows, dtype=float)
    arr[:, 1:] -= arr[:, 1].min()
    return arr


def _samples(out: Path) -> list[Path]:
    return sorted(out.glob("*.mid"))


#: midi-tracks' longest note: max_duration_steps (32) sixteenths, 8 beats of 480 ticks. A longer
#: note (the fermata closing a chorale) is read that long, by any midi-tracks reading.
LONGEST = 8 * 480


def _same_notes(given: np.ndarray, got: np.ndarray) -> None:
    assert given.shape == got.shape, (given.shape, got.shape)
    assert (given[:, 0] == got[:, 0]).all()  # pitches
    assert np.abs(given[:, 1] - got[:, 1]).max() <= 1.0  # onsets within a tick
    ends = np.minimum(given[:, 2], given[:, 1] + LONGEST)
    assert np.abs(ends - got[:, 2]).max() <= 1.0  # ends within a tick


def test_accompany_keeps_the_soprano(chorale_midi: Path, tmp_path: Path):
    soprano = _one_track(chorale_midi, 0, tmp_path / "soprano.mid")
    out = tmp_path / "out"
    code, text = mgen("sample", "--run", "bach-satb", "--accompany", soprano, "--instruments",
                      "0,0,0", "-k", "2", "-n", "1500", "--out", out, "--device", "cpu")  # fmt: skip
    assert code == 0, text
    assert "kept note for note" in text
    given = pretty_midi.PrettyMIDI(str(soprano))
    want = _beats(given, given.instruments[0])
    files = _samples(out)
    assert len(files) == 2, text
    for path in files:
        pm = pretty_midi.PrettyMIDI(str(path))
        assert [i.program for i in pm.instruments] == [0, 0, 0, 0]
        _same_notes(want, _beats(pm, pm.instruments[0]))
        assert all(len(i.notes) > 10 for i in pm.instruments[1:])  # new tracks were written


def test_accompany_a_chosen_track_with_named_instruments(chorale_midi: Path, tmp_path: Path):
    out = tmp_path / "out"
    code, text = mgen("sample", "--run", "bach-satb", "--accompany", chorale_midi,
                      "--accompany-track", "4", "--instruments", "piano,bass", "-n", "1500",
                      "--seed", "3", "--out", out, "--device", "cpu")  # fmt: skip
    assert code == 0, text
    source = pretty_midi.PrettyMIDI(str(chorale_midi))
    (path,) = _samples(out)
    pm = pretty_midi.PrettyMIDI(str(path))
    assert [i.program for i in pm.instruments] == [0, 0, 33]  # the bass line, piano, bass
    _same_notes(_beats(source, source.instruments[3]), _beats(pm, pm.instruments[0]))


def test_the_api_returns_the_pieces(chorale_midi: Path, tmp_path: Path):
    from mgen import api

    soprano = _one_track(chorale_midi, 0, tmp_path / "soprano.mid")
    result = api.accompany("bach-satb", soprano, "0,0", n=1500, num_samples=3, seed=1,
                           out=tmp_path / "out")  # fmt: skip
    assert len(result.pieces) == 3 and result.written.pieces == 3
    assert all(p[:4] == ["tracks_3", "inst_0", "inst_0", "inst_0"] for p in result.pieces)


def test_too_short_a_budget_is_refused_not_cut(chorale_midi: Path, tmp_path: Path):
    code, text = mgen("sample", "--run", "bach-satb", "--accompany", chorale_midi,
                      "--instruments", "0,0,0", "-n", "5", "--out", tmp_path / "o")  # fmt: skip
    assert_one_line_error(code, text, "did not keep the given track", "raise -n")
    assert not list((tmp_path / "o").glob("*.mid"))


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--run", "bach-midi", "--instruments", "piano"], "cannot accompany"),
        (["--run", "bach-satb", "--instruments", "kazooo"], "kazooo"),
        (["--run", "bach-satb"], "--instruments"),
        (["--run", "bach-satb", "--instruments", "bass", "--accompany-track", "9"], "tracks 1-4"),
        (["--run", "bach-satb", "--instruments", "bass", "--no-grammar"], "grammar"),
    ],
)
def test_refusals_are_one_line(chorale_midi: Path, extra: list[str], expected: str):
    code, text = mgen("sample", "--accompany", chorale_midi, *extra)
    assert_one_line_error(code, text, expected)
    assert code == 2


def test_a_file_without_a_pitched_track_is_refused(tmp_path: Path):
    pm = pretty_midi.PrettyMIDI()
    drums = pretty_midi.Instrument(program=0, is_drum=True)
    drums.notes = [pretty_midi.Note(100, 36, i * 0.5, i * 0.5 + 0.1) for i in range(8)]
    pm.instruments.append(drums)
    pm.write(str(tmp_path / "drums.mid"))
    code, text = mgen("sample", "--run", "bach-satb", "--accompany", tmp_path / "drums.mid",
                      "--instruments", "piano")  # fmt: skip
    assert_one_line_error(code, text, "no pitched track")
    assert code == 2
