"""The one in-memory score (mgen.formats.score): MIDI, ABC and **kern read into it, MIDI written
from it, the web page's seconds derived from its tempo map, and one tune splitter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from mgen.formats.abc.notes import read_abc_notes
from mgen.formats.abc.tunes import abc_tunes, read_text, split_tunes, tune_texts
from mgen.formats.kern.notes import read_kern, read_kern_notes
from mgen.formats.midi.read import READERS, load, read_midi
from mgen.formats.midi.write import write_midi
from mgen.formats.score import Piece, Score, Track, make_piece


def band() -> Score:
    """Three tracks: a piano chord and melody, strings (program 48) and drums; a tempo change,
    a meter change and a key."""
    piano = Track.from_notes(
        [(60, 0, 1, 80), (64, 0, 1, 81), (67, 0, 2, 82), (72, 1, 0.5, 100), (71, 1.5, 0.5, 90)],
        name="Piano",
    )
    strings = Track.from_notes([(48, 0, 4, 60), (43, 4, 2.5, 61)], name="Strings", program=48)
    drums = Track.from_notes([(36, b, 0.25, 110) for b in range(6)], name="Drums", is_drum=True)
    return Score(
        "band",
        [piano, strings, drums],
        tempos=[[0, 96], [4, 125]],  # tempos MIDI holds exactly (whole microseconds a beat)
        meters=[[0, 4, 4], [4, 3, 4]],
        keys=[[0, -2, 1]],  # G minor
    )


def notes_of(track: Track) -> list[tuple]:
    cols = (track.pitch, track.onset, track.duration, track.velocity)
    return list(zip(*(c.tolist() for c in cols), strict=True))


@pytest.mark.parametrize("meter", [[2, 300, 4], [2, 3, 6], [2, 5, 256], [2, 2.5, 4]])
def test_a_meter_midi_cannot_hold_is_left_out_and_the_notes_written(tmp_path, meter):
    """ABC lets a tune say `M:300/4` or `M:3/6`; a MIDI time signature has a numerator of one
    byte and a power-of-two denominator: the file is written with the meters it can hold."""
    ours = band()
    ours.meters = np.array([[0, 4, 4], meter], dtype=float)
    back = read_midi(write_midi(ours, tmp_path / "odd.mid"))
    assert back.meters.tolist() == [[0, 4, 4]]
    assert sum(len(t) for t in back.tracks) == sum(len(t) for t in ours.tracks)


@pytest.mark.parametrize("reader", READERS)
def test_midi_round_trip_keeps_tracks_programs_drums_tempo_meter_and_key(tmp_path, reader):
    ours = band()
    path = write_midi(ours, tmp_path / "band.mid")
    back = read_midi(path, reader)
    assert back.fmt == "midi" and back.resolution == 480 and back.name == str(path)
    got = {(t.name, t.program, t.is_drum): notes_of(t) for t in back.tracks}
    assert got == {(t.name, t.program, t.is_drum): notes_of(t) for t in ours.tracks}
    assert back.tempos.tolist() == ours.tempos.tolist()
    assert back.meters.tolist() == ours.meters.tolist()
    assert back.keys.tolist() == ours.keys.tolist()
    # ... and once more: what was read writes the same file again
    assert read_midi(write_midi(back, tmp_path / "again.mid"), reader).tempos.tolist() == [
        [0, 96],
        [4, 125],
    ]


def test_a_real_midi_file_round_trips(chorale_midi: Path, tmp_path: Path):
    first = read_midi(chorale_midi)
    again = read_midi(write_midi(first, tmp_path / "again.mid"))
    assert len(first.tracks) > 1 and len(first) > 100
    assert [notes_of(t) for t in again.tracks] == [notes_of(t) for t in first.tracks]
    assert [(t.name, t.program, t.is_drum) for t in again.tracks] == [
        (t.name, t.program, t.is_drum) for t in first.tracks
    ]
    assert np.array_equal(again.tempos, first.tempos) and np.array_equal(again.meters, first.meters)


def test_the_flat_view_is_every_sounding_pitched_note(tmp_path: Path):
    """Drums and notes that take no time are left out; the rest sorted by onset, then pitch."""
    _, strings, drums = band().tracks
    piano = Track.from_notes([(60, 0, 1), (50, 0, 0)])  # the 50 takes no time
    score = Score("band", [piano, strings, drums], meters=[[0, 3, 4]])
    assert score.pitch.tolist() == [48, 60, 43]
    assert score.onset.tolist() == [0, 0, 4] and score.duration.tolist() == [4, 1, 2.5]
    assert score.melody().tolist() == [60, 43] and score.bar_length == 3.0 and score.bars() == 3
    assert isinstance(make_piece("x", [(60, 0, 1)], 1.5), Piece) and Piece is Score
    assert make_piece("x", [(60, 0, 1)], 1.5).meters.tolist() == [[0, 3, 8]]


def test_the_tick_view_gives_the_files_ticks(tmp_path: Path):
    path = write_midi(band(), tmp_path / "band.mid", resolution=384)
    midi = load(path)
    assert midi.ticks_per_beat == 384
    assert sorted(midi.notes[:, 0].tolist())[-1] == 4 * 384  # the drums (up to beat 5) are left out
    assert sorted(map(tuple, midi.notes[:, 2:].tolist())) == sorted(
        (p, v) for t in band().tracks[:2] for p, v in zip(t.pitch, t.velocity, strict=True)
    )
    assert midi.tempos.tolist() == [[0, 96], [4 * 384, 125]]
    assert load(path, piano_only=True).notes[:, 2].tolist() == [60, 64, 67, 72, 71]


def test_seconds_follow_the_tempo_map_as_pretty_midi_reads_them(tmp_path: Path):
    from mgen.web.views import notes

    path = write_midi(band(), tmp_path / "band.mid")
    played = notes(path)
    pm = pretty_midi.PrettyMIDI(str(path))
    theirs = sorted(
        [n.pitch, round(n.start, 4), round(n.end, 4), n.velocity]
        for inst in pm.instruments
        if not inst.is_drum
        for n in inst.notes
    )
    assert sorted(played) == theirs
    assert read_midi(path).seconds([0, 4, 6]).tolist() == pytest.approx([0, 2.5, 2.5 + 120 / 125])


def test_an_abc_tune_reads_into_a_score(music21_corpus: Path):
    path = music21_corpus / "essenFolksong" / "kinder0.abc"
    scores = read_abc_notes(path, limit=3)
    assert len(scores) == 3 and all(s.fmt == "abc" for s in scores)
    first = scores[0]
    assert first.name == f"{path}#1" and first.source.startswith("X:1") and "K:" in first.source
    assert len(first.tracks) == 1 and len(first) == len(first.tracks[0]) > 10
    assert first.meters[0].tolist()[1:] == [2, 4] and first.bar_length == 2.0
    assert first.keys[0].tolist()[1:] == [-1, 0]  # K:F
    assert np.all(first.velocity == 90) and np.all(np.diff(first.onset) >= 0)


def test_a_kern_file_reads_into_a_score_with_a_track_per_spine(music21_corpus: Path):
    path = music21_corpus / "palestrina" / "Agnus_01.krn"
    score = read_kern(path)
    assert score.fmt == "kern" and score.source.startswith("!!!") and "**kern" in score.source
    assert [t.name for t in score.tracks][:2] == ["Soprano", "Alto"] and len(score.tracks) == 5
    assert score.meters.tolist() == [[0, 4, 2]] and score.bar_length == 8.0
    voices = read_kern_notes(path)
    assert [len(v.tracks) for v in voices] == [1] * 5
    assert sum(len(v) for v in voices) == len(score)
    assert [notes_of(v.tracks[0]) for v in voices] == [notes_of(t) for t in score.tracks]
    assert [s.name for s in score.split()] == [v.name for v in voices]


def test_one_tune_splitter_for_notes_and_checks(music21_corpus: Path):
    text = read_text(music21_corpus / "essenFolksong" / "kinder0.abc")
    tunes = split_tunes(text)
    checked, lines = tune_texts(text)
    assert len(tunes) == len(checked) == len(abc_tunes(text)) == 213
    assert lines == [t.line for t in tunes]
    assert all(text.splitlines()[n - 1].startswith("X:") for n in lines)
    crlf = "%header\r\nX:1\r\nK:C\r\nCDE|\r\nX:2\r\nK:G\r\nGAB|\r\n"
    assert abc_tunes(crlf) == ["X:1\r\nK:C\r\nCDE|\r\n", "X:2\r\nK:G\r\nGAB|\r\n"]
    assert tune_texts(crlf) == (["X:1\nK:C\nCDE|\n", "X:2\nK:G\nGAB|\n"], [2, 5])
    assert tune_texts("K:C\nCDE|") == (["K:C\nCDE|"], [1])  # no X: line: one tune as written
