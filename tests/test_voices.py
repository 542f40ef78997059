"""`mgen eval` on music in voices: each voice's range and register, voice crossings, parallel
fifths and octaves, the classifier per voice; on real four-part chorales (music21's MusicXML,
written as multi-track MIDI), on a hand-made pair of voices with known parallels, and the
single-stream tables left as they were."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import write_midi as write_one_track

from mgen.evaluate import voices
from mgen.formats.midi.read import read_midi
from mgen.formats.midi.write import write_midi
from mgen.formats.score import Score, Track

CHORALES = 12
VOICE_ROWS = ("voices per piece", "voice 1", "voice crossings", "parallel", "classifier, voice")

# Two voices, a beat a note. Intervals: 7 7 7 7 12 12 12 12 7 7 19. Parallel fifths: beats
# 0-1, 1-2, 2-3 (both rising) and 8-9 (both rising after the upper voice held: 7-8 is oblique);
# 9-10 is a fifth to a twelfth by contrary motion: not parallel. Parallel octaves: 4-5, 5-6,
# 6-7 (both falling); 3-4 is contrary. The upper voice's passing note at 2.5 is no shared onset.
UPPER = [72, 74, 76, 77, 79, 77, 76, 74, 74, 76, 81]
LOWER = [65, 67, 69, 70, 67, 65, 64, 62, 67, 69, 62]
FIFTHS, OCTAVES, BEATS = 4, 3, 11


def _two_voices() -> Score:
    upper = [(p, i, 1.0) for i, p in enumerate(UPPER) if i != 2] + [(76, 2, 0.5), (77, 2.5, 0.5)]
    lower = [(p, i, 1.0) for i, p in enumerate(LOWER)]
    return Score("two", [Track.from_notes(upper, name="upper", program=52),
                         Track.from_notes(lower, name="lower", program=52)],
                 meters=[[0, 4, 4]])  # fmt: skip


def test_parallel_fifths_and_octaves_are_counted_exactly(tmp_path: Path, cli):
    path = write_midi(_two_voices(), tmp_path / "samples" / "two.mid")
    figures = voices.piece_voices(read_midi(path))
    assert (figures["parallel_fifths"], figures["parallel_octaves"]) == (FIFTHS, OCTAVES)
    assert figures["beats"] == BEATS and figures["crossed_beats"] == 0
    assert [v["name"] for v in figures["voices"]] == ["upper", "lower"]
    out = tmp_path / "eval.json"
    result = cli("eval", path.parent, "--json", out)
    assert result.exit_code == 0, result.output
    got = json.loads(out.read_text())["formats"]["midi"]["voices"]
    assert got["fifths_per_100_beats"] == pytest.approx(100 * FIFTHS / BEATS)
    assert got["octaves_per_100_beats"] == pytest.approx(100 * OCTAVES / BEATS)
    assert "parallel fifths per 100 beats" in result.stdout and "36.36" in result.stdout


def test_a_voice_above_the_voice_ordered_before_it_is_a_crossing():
    # The upper voice (median 72) dips under the lower one (median 60) on beats 2 and 3 of 8.
    upper = Track.from_notes([(72, i, 1) for i in (0, 1, 4, 5, 6, 7)] + [(55, 2, 2)])
    lower = Track.from_notes([(60, i, 1) for i in range(8)])
    figures = voices.piece_voices(Score("x", [lower, upper]))
    assert [v["median"] for v in figures["voices"]] == [72, 60]  # ordered by median
    assert (figures["crossed_beats"], figures["shared_beats"]) == (2, 8)
    scale = Track.from_notes([(60 + i, i, 1) for i in range(8)])
    unison = voices.piece_voices(Score("y", [scale, replace(scale, name="copy")]))
    assert unison["crossed_beats"] == 0 and unison["parallel_octaves"] == 7  # doubled: octaves


def test_drums_and_single_tracks_are_not_voices():
    drums = Track.from_notes([(36, i, 0.5) for i in range(8)], is_drum=True)
    melody = Track.from_notes([(60 + i, i, 1) for i in range(8)])
    assert not voices.is_voiced(Score("x", [melody, drums]))
    assert voices.in_voices([_two_voices(), Score("x", [melody])])  # half of them: in voices
    assert not voices.in_voices([_two_voices()] + [Score("x", [melody])] * 2)


@pytest.fixture(scope="module")
def chorales(tmp_path_factory: pytest.TempPathFactory, music21_corpus: Path) -> dict[str, Path]:
    """Four-part Bach chorales from music21's MusicXML (a track per part), written as
    multi-track MIDI by mgen's writer: `samples` (4), `reference` (8), and `shuffled`: the
    samples with each voice's pitches in a random order (their rhythm kept)."""
    from mgen.formats.musicxml import MUSICXML

    root = tmp_path_factory.mktemp("chorales")
    folders = {k: root / k for k in ("samples", "reference", "shuffled", "xml")}
    for f in folders.values():
        f.mkdir()
    rng = np.random.default_rng(0)
    written = 0
    for source in sorted((music21_corpus / "bach").glob("bwv*.mxl")):
        score = MUSICXML.read_notes(source)[0]
        if len(score.tracks) != 4:
            continue  # chorales with instruments doubling the voices
        folder = folders["samples" if written < 4 else "reference"]
        write_midi(score, folder / f"{source.stem}.mid")
        if written < 4:
            shuffled = [replace(t, pitch=rng.permutation(t.pitch)) for t in score.tracks]
            write_midi(replace(score, tracks=shuffled), folders["shuffled"] / f"{source.stem}.mid")
            if written == 0:
                (folders["xml"] / source.name).write_bytes(source.read_bytes())
        written += 1
        if written == CHORALES:
            break
    return folders


def _judge(cli, tmp_path: Path, samples: Path, reference: Path, name: str) -> tuple[dict, str]:
    out = tmp_path / f"{name}.json"
    result = cli("eval", samples, "--reference", reference, "--json", out)
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text()), result.stdout


def test_chorales_are_judged_voice_by_voice(chorales, cli, tmp_path: Path):
    report, text = _judge(cli, tmp_path, chorales["samples"], chorales["reference"], "bach")
    ours, theirs = report["formats"]["midi"]["voices"], report["corpus"]["voices"]
    for figures in (ours, theirs):
        assert figures["voices_per_piece"] == 4
        assert [r["name"] for r in figures["ranks"]] == ["Soprano", "Alto", "Tenor", "Bass"]
        medians = [r["median"] for r in figures["ranks"]]
        assert medians == sorted(medians, reverse=True)
        assert all(r["lowest"] < r["median"] < r["highest"] for r in figures["ranks"])
        assert figures["crossings"] < 0.1 and figures["fifths_per_100_beats"] < 3
    assert ours["ranks"][0]["lowest"] >= 60 and ours["ranks"][3]["highest"] <= 65
    assert len(ours["distinguish"]) == 4  # the classifier per voice, beside the whole piece
    for label in ("voice 1 (Soprano): low-high (median)", "voice 4 (Bass)", "voice crossings",
                  "parallel fifths per 100 beats", "classifier, voice 4 alone"):  # fmt: skip
        assert label in text, text
    # Each voice's pitches shuffled: the same ranges, but voices cross and move in parallel.
    shuffled, _ = _judge(cli, tmp_path, chorales["shuffled"], chorales["reference"], "shuffled")
    bad = shuffled["formats"]["midi"]["voices"]
    assert [r["lowest"] for r in bad["ranks"]] == [r["lowest"] for r in ours["ranks"]]
    assert bad["crossings"] > 2 * ours["crossings"]
    assert bad["fifths_per_100_beats"] + bad["octaves_per_100_beats"] > 2 * (
        ours["fifths_per_100_beats"] + ours["octaves_per_100_beats"]
    )


def test_musicxml_parts_are_voices(chorales, cli, tmp_path: Path):
    report, text = _judge(cli, tmp_path, chorales["xml"], chorales["reference"], "xml")
    figures = report["formats"]["musicxml"]["voices"]
    assert [r["name"] for r in figures["ranks"]] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert "voice 2 (Alto)" in text


def test_single_stream_files_keep_their_tables(chorales, cli, tmp_path: Path):
    samples = tmp_path / "melodies"
    samples.mkdir()
    for i in range(6):
        write_one_track(samples / f"m{i}.mid", [60 + (i + k * 5) % 12 for k in range(24)])
    report, text = _judge(cli, tmp_path, samples, chorales["reference"], "single")
    assert "voices" in report["corpus"]  # the reference is in voices; the samples are not
    assert "voices" not in report["formats"]["midi"]
    assert not any(row in text for row in VOICE_ROWS), text
