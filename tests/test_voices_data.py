"""Issue 28: multi-track data. The datasets written from music21's corpus with a named track per
voice or instrument (bach-satb, string-quartets, renaissance-voices), checked by reading the
files back with the Score reader against music21's own parts; and the synthetic Lakh-like
multi-track corpus of `mgen bench -s scale`."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from mgen.core.contracts import registry
from mgen.formats.midi.read import read_midi
from mgen.formats.score import Track
from mgen.plugins.datasets import voices
from mgen.plugins.datasets.written import dataset_dir, write_dataset

NEW = {"bach-satb": voices.BachSatb, "string-quartets": voices.StringQuartets,
       "renaissance-voices": voices.RenaissanceVoices}  # fmt: skip


def music21_voices(path: Path) -> list[tuple[str, list[tuple[int, float]]]]:
    """Each part's name and sounding (pitch, onset) pairs as music21 reads them (repeats
    expanded, ties joined, grace notes out): what the written tracks must hold."""
    from mgen.formats.m21 import parse

    out = []
    for part in parse(path).expandRepeats().parts:
        part = part.stripTies()
        notes = [n for n in part.recurse().notes if n.quarterLength > 0]
        pairs = [(p.midi, round(float(n.getOffsetInHierarchy(part)), 6))
                 for n in notes for p in n.pitches]  # fmt: skip
        out.append((part.partName, sorted(pairs)))
    return out


def notes_of(track: Track, shift: float = 0.0) -> list[tuple[int, float]]:
    onsets = np.round(track.onset - shift, 6).tolist()
    return sorted(zip(track.pitch.tolist(), onsets, strict=True))


def write(dataset, rels: list[str], corpus: Path, dest: Path) -> dict:
    """Write `rels` (paths in music21's corpus) as `dataset` does, in one worker; its index."""
    write_dataset([corpus / r for r in rels], corpus, dest, dataset().converter(), workers=1)
    return json.loads((dest / "index.json").read_text())


def test_the_datasets_are_plugins_counted_without_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MGEN_CACHE_DIR", str(tmp_path))
    counts = {}
    for name, cls in NEW.items():
        assert registry.load("dataset", name) is cls
        d = cls()
        assert (d.tokenizer, d.format, d.name) == ("midi-tracks", "MIDI", name)
        assert not d.ready()
        counts[name] = d.count()
    assert not dataset_dir("bach-satb").exists()  # counting writes nothing
    # music21's corpus: 410 Bach MusicXML scores, 46 quartet movements, 1,318 Palestrina mass
    # movements and 48 Monteverdi madrigals.
    assert counts == {"bach-satb": 410, "string-quartets": 46, "renaissance-voices": 1366}


def test_bach_satb_four_named_voices_hold_the_chorale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, music21_corpus: Path
) -> None:
    """Written on first use into the cache; a chorale with a horn part and a pickup (bwv1.6),
    one in 3/4 with a repeat (bwv11.6, written out: as music21's `expandRepeats` has it), and a
    keyboard piece that is not a chorale (listed as failed)."""
    monkeypatch.setenv("MGEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(voices.BachSatb, "patterns", ("bach/bwv1.6.mxl", "bach/bwv11.6.mxl",
                                                      "bach/bwv846.mxl"))  # fmt: skip
    d = voices.BachSatb()
    files = d.files(progress=False)
    assert [f.name for f in files] == ["bwv1.6.mid", "bwv11.6.mid"] and d.ready()
    index = json.loads((dataset_dir("bach-satb") / "index.json").read_text())
    assert index["version"] == voices.VERSION and list(index["failed"]) == ["bach/bwv846.mxl"]
    assert "not one soprano, alto, tenor and bass" in index["failed"]["bach/bwv846.mxl"]
    for f, pickup, beats in zip(files, (3.0, 0.0), (4.0, 3.0), strict=True):
        score = read_midi(f)
        assert [t.name for t in score.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
        assert [(t.program, t.is_drum) for t in score.tracks] == [(52, False)] * 4
        assert score.meters.tolist() == [[0.0, beats, 4.0]] and len(score.keys) == 1
        # the pickup is padded to a full bar: the first downbeat falls on beat 4
        assert min(t.onset.min() for t in score.tracks) == pickup
        parts = dict(music21_voices(music21_corpus / "bach" / f.with_suffix(".mxl").name))
        for t in score.tracks:
            assert notes_of(t, pickup) == parts[t.name], t.name
    assert d.files(progress=False) == files  # the second use reads the index


def test_string_quartet_tracks_and_programs(tmp_path: Path, music21_corpus: Path) -> None:
    """Haydn's op. 1 no. 1 (parts named Violin I, ... played as string ensemble in the score)
    and a piano sonata (not a quartet: listed as failed)."""
    rels = ["haydn/opus1no1/movement4.mxl", "mozart/k545/movement1_exposition.mxl"]
    index = write(voices.StringQuartets, rels, music21_corpus, tmp_path)
    assert index["failed"] == {rels[1]: "2 parts, not a quartet's 4"}
    score = read_midi(tmp_path / "haydn/opus1no1/movement4.mid")
    names = [t.name for t in score.tracks]
    assert names == ["Violin I", "Violin II", "Viola", "Cello"]
    assert [t.program for t in score.tracks] == [40, 40, 41, 42]
    parts = [notes for _, notes in music21_voices(music21_corpus / rels[0])]
    shift = min(t.onset.min() for t in score.tracks) - min(o for n in parts for _, o in n)
    for t, written in zip(score.tracks, parts, strict=True):
        assert notes_of(t, shift) == written


def test_renaissance_voices_as_named(tmp_path: Path, music21_corpus: Path) -> None:
    """A Palestrina Agnus Dei of five voices, two of them tenors (numbered)."""
    rel = "palestrina/Agnus_00.krn"
    write(voices.RenaissanceVoices, [rel], music21_corpus, tmp_path)
    score = read_midi(tmp_path / "palestrina/Agnus_00.mid")
    assert [t.name for t in score.tracks] == ["Soprano", "Alto", "Tenor 1", "Tenor 2", "Bass"]
    assert {t.program for t in score.tracks} == {52}
    assert score.meters[0].tolist() == [0.0, 4.0, 2.0]
    parts = music21_voices(music21_corpus / rel)
    assert [notes_of(t) for t in score.tracks] == [notes for _, notes in parts]
    assert [len(t) for t in score.tracks] == [99, 107, 98, 104, 83]


@pytest.mark.slow
def test_monteverdi_madrigal_with_continuo(tmp_path: Path, music21_corpus: Path) -> None:
    rel = "monteverdi/madrigal.5.1.mxl"
    write(voices.RenaissanceVoices, [rel], music21_corpus, tmp_path)
    score = read_midi(tmp_path / "monteverdi/madrigal.5.1.mid")
    parts = music21_voices(music21_corpus / rel)
    assert [t.name for t in score.tracks] == [name for name, _ in parts]
    assert [t.program for t in score.tracks] == [52] * 5 + [6]  # the continuo: a harpsichord
    assert [notes_of(t) for t in score.tracks] == [notes for _, notes in parts]


def test_arrangements_on_tracks() -> None:
    def tracks(*names: str) -> list[Track]:
        return [Track.from_notes([(60 + i, 0.0, 1.0)], name=n) for i, n in enumerate(names)]

    found = voices.satb(tracks("Horn 1", "Soprano\rOboe 1,2", "Alto", "Tenor", "Bass\rContinuo"))
    assert [(t.name, t.program, int(t.pitch[0])) for t in found] == [
        ("Soprano", 52, 61), ("Alto", 52, 62), ("Tenor", 52, 63), ("Bass", 52, 64)]  # fmt: skip
    with pytest.raises(Exception, match="parts: Soprano 1, Soprano 2, Alto, Tenor, Bass"):
        voices.satb(tracks("Soprano 1", "Soprano 2", "Alto", "Tenor", "Bass"))
    sung = voices.voices(tracks("S.", "S.", "B.", "", "Organ"))
    assert [(t.name, t.program) for t in sung] == [
        ("S. 1", 52), ("S. 2", 52), ("B.", 52), ("Voice 4", 52), ("Organ", 19)]  # fmt: skip


def test_repeats_written_out_bar_by_bar() -> None:
    """Bars of 4, 4, 2 and 4 beats played 0 1 2 0 1 3 (a repeat with first and second endings):
    each note and each meter change is copied into every play of its bar."""
    from mgen.formats.score import Score
    from mgen.plugins.datasets.repeats import expanded

    notes = [(60, 0.0, 1.0), (62, 5.0, 2.0), (64, 8.0, 2.0), (65, 10.0, 4.0)]
    score = Score("x", [Track.from_notes(notes, name="Soprano", program=52)],
                  meters=[[0, 4, 4], [8, 2, 4], [10, 4, 4]])  # fmt: skip
    starts = np.array([0.0, 4.0, 8.0, 10.0, 14.0])
    out = expanded(score, [starts], np.array([0, 1, 2, 0, 1, 3]))
    [t] = out.tracks
    assert (t.name, t.program) == ("Soprano", 52)
    assert t.onset.tolist() == [0.0, 5.0, 8.0, 10.0, 15.0, 18.0]
    assert t.pitch.tolist() == [60, 62, 64, 60, 62, 65]
    assert t.duration.tolist() == [1.0, 2.0, 2.0, 1.0, 2.0, 4.0]
    assert out.meters.tolist() == [[0, 4, 4], [8, 2, 4], [10, 4, 4]]
    # A note tied into the first ending (bar 1) is, the second time, joined to the note of its
    # pitch that opens the second ending (bar 2), as music21 joins ties after expanding.
    notes = [(60, 3.0, 2.0), (62, 5.0, 1.0), (60, 8.0, 1.0), (64, 9.0, 1.0)]
    score = Score("y", [Track.from_notes(notes)])
    starts = np.array([0.0, 4.0, 8.0, 12.0])
    [t] = expanded(score, [starts], np.array([0, 1, 0, 2])).tracks
    assert t.onset.tolist() == [3.0, 5.0, 11.0, 13.0] and t.pitch.tolist() == [60, 62, 60, 64]
    assert t.duration.tolist() == [2.0, 1.0, 2.0, 1.0]


# -- the synthetic multi-track corpus ---------------------------------------------------------


def test_synthetic_multitrack_corpus(tmp_path: Path) -> None:
    import mido

    from mgen.bench.synthetic_tracks import write_corpus
    from mgen.formats.midi.gm import DRUMS

    files = write_corpus(tmp_path / "a", 30, seed=3)
    assert files[0].parent.name == "shard-000"
    sizes, names, changed = Counter(), Counter(), 0
    for f in files:
        score = read_midi(f)
        assert score.meters[0, 1:].tolist() in ([4.0, 4.0], [3.0, 4.0]) and len(score.keys) == 1
        sizes[len(score.tracks)] += 1
        names.update({t.name for t in score.tracks})
        drums = [t for t in score.tracks if t.is_drum]
        assert drums and all(set(t.pitch.tolist()) <= set(DRUMS) for t in drums)
        assert any(32 <= t.program <= 39 for t in score.tracks if t.name == "Bass")
        changed += len({t.name for t in score.tracks if t.name != "Percussion"}) < sum(
            t.name != "Percussion" for t in score.tracks
        )
        if f not in files[:6]:
            continue
        # drums on channel 10, every other instrument on a channel of its own
        channels = {tr.name: {m.channel for m in tr if m.type == "note_on"}
                    for tr in mido.MidiFile(f).tracks if tr.name}  # fmt: skip
        assert channels.pop("Drums") == {9}
        assert 9 not in set().union(*(c for n, c in channels.items() if n != "Percussion"))
        same = read_midi(f, reader="miditoolkit")  # both readers agree on every track
        assert _tracks(same) == _tracks(score)
    assert min(sizes) >= 4 and max(sizes) <= 12 and len(sizes) >= 5
    assert {"Drums", "Bass", "Chords", "Melody"} <= set(names) and len(names) >= 8
    assert changed >= 4  # an instrument that changes program reads as two tracks of one name
    again = write_corpus(tmp_path / "b", 5, seed=3)
    other = write_corpus(tmp_path / "c", 5, seed=4)
    assert [f.read_bytes() for f in again] == [f.read_bytes() for f in files[:5]]
    assert [f.read_bytes() for f in other] != [f.read_bytes() for f in again]


def _tracks(score) -> list[tuple]:
    return sorted(
        (t.name, t.program, t.is_drum, t.pitch.tobytes(), np.round(t.onset, 9).tobytes(),
         np.round(t.duration, 9).tobytes(), t.velocity.tobytes())
        for t in score.tracks
    )  # fmt: skip
