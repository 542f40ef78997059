"""`mgen serve` with samples of several tracks: what a sample view gives the page (each note's
track, the tracks named with their General MIDI instruments, the drum hits), its parts engraved
from MusicXML, and the judge data that keeps the reference's voices."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="mgen serve needs the web extra: pip install 'mgen[web]'")
pytest.importorskip("verovio", reason="mgen serve needs the web extra: pip install 'mgen[web]'")

from mgen.core.contracts import registry  # noqa: E402
from mgen.formats.midi.write import write_midi  # noqa: E402
from mgen.formats.score import Track  # noqa: E402
from mgen.web import views  # noqa: E402

PROGRAMS = [52, 52, 42, 32]  # choir aahs, choir aahs, cello, acoustic bass
VIEW_FIELDS = {"index", "tokens", "text", "svg", "notation_note", "notes", "seconds", "primer",
               "formats"}  # fmt: skip


def multi_track_sample(music21_corpus: Path, folder: Path) -> Path:
    """A four-part chorale (a track per part, each with its program) and a drum track, as MIDI."""
    from mgen.formats.musicxml import MUSICXML

    score = MUSICXML.read_notes(music21_corpus / "bach" / "bwv10.7.mxl")[0]
    parts = [replace(t, program=p) for t, p in zip(score.tracks, PROGRAMS, strict=True)]
    kick = [(36, float(b), 0.25) for b in range(0, 16, 2)] + [(42, b + 0.5, 0.25) for b in range(8)]
    drums = Track.from_notes(kick, name="Kit", is_drum=True)
    folder.mkdir(parents=True, exist_ok=True)
    return write_midi(replace(score, tracks=[*parts, drums]), folder / "sample-1.mid")


@pytest.fixture(scope="module")
def view(tmp_path_factory: pytest.TempPathFactory, music21_corpus: Path) -> tuple[dict, Path]:
    midi = multi_track_sample(music21_corpus, tmp_path_factory.mktemp("tracks"))
    tok = registry.load("tokenizer", "midi-notes")()
    return views.sample_view(1, tok, [], [midi]), midi


def test_a_view_names_each_track_and_the_track_of_each_note(view):
    sample, midi = view
    assert set(sample) >= VIEW_FIELDS  # every field the page read before is there, as it was
    assert sample["notes"] == views.notes(midi)  # the pitched notes, as before
    assert [t["name"] for t in sample["tracks"]] == ["Soprano", "Alto", "Tenor", "Bass", "Kit"]
    assert [t["program"] for t in sample["tracks"][:4]] == PROGRAMS
    assert [t["instrument"] for t in sample["tracks"]] == [
        "Choir Aahs", "Choir Aahs", "Cello", "Acoustic Bass", "Drums"]  # fmt: skip
    assert [t["drum"] for t in sample["tracks"]] == [False] * 4 + [True]
    tracks = sample["note_tracks"]
    assert len(tracks) == len(sample["notes"]) and set(tracks) == {0, 1, 2, 3}
    soprano = [n[0] for n, t in zip(sample["notes"], tracks, strict=True) if t == 0]
    bass = [n[0] for n, t in zip(sample["notes"], tracks, strict=True) if t == 3]
    assert min(soprano) > max(bass) - 12 and np.median(soprano) > np.median(bass)
    assert len(sample["drums"]) == 16 and {d[4] for d in sample["drums"]} == {4}
    assert {d[0] for d in sample["drums"]} == {36, 42}


def test_the_parts_are_engraved(view):
    sample, midi = view
    xml = midi.with_suffix(".musicxml").read_text(encoding="utf-8")
    names = re.findall(r"<part-name>([^<]*)</part-name>", xml)
    assert names[:4] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert sample["svg"] and sample["svg"].startswith("<svg")
    assert sample["svg"].count('class="staff') >= 4  # a staff per part, at least one system


def test_a_single_track_view_has_one_track(tmp_path: Path):
    from conftest import write_midi as write_one_track

    midi = write_one_track(tmp_path / "one.mid", [60, 62, 64, 65])
    got = views.played(midi)
    assert got["notes"] == views.notes(midi) and got["note_tracks"] == [0, 0, 0, 0]
    assert got["tracks"] == [{"name": "", "program": 0, "instrument": "Acoustic Grand Piano",
                              "drum": False}]  # fmt: skip
    assert got["drums"] == []


def test_the_judge_data_keeps_the_reference_voices(view, tmp_path: Path):
    from mgen.evaluate import baseline
    from mgen.evaluate.report import Reference
    from mgen.formats.midi.read import read_midi
    from mgen.formats.score import single
    from mgen.web import judgecache

    _, midi = view
    chorale = read_midi(midi)
    melody = single("tune", [60, 62, 64], [0, 1, 2], [1, 1, 1])
    pieces = [chorale] * 6 + [melody]
    ref = Reference("chorales", 7, pieces, [], [], baseline.corpus_figures(pieces, []))
    data = judgecache.JudgeData(ref, [np.array([60, 62])], [], [], ["a"], "chorales", 0.1, "midi")
    judgecache.save(tmp_path / "judge.npz", data)
    back = judgecache._read(tmp_path / "judge.npz")
    assert back is not None
    kept = back.reference.pieces
    assert [t.name for t in kept[0].tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert len(kept[-1].tracks) == 1
    for ours, theirs in zip(kept, pieces, strict=True):  # the same sounding notes, in order
        assert ours.pitch.tolist() == theirs.pitch.tolist()
        assert ours.onset.tolist() == theirs.onset.tolist()
    assert back.reference.corpus["voices"]["ranks"] == ref.corpus["voices"]["ranks"]
