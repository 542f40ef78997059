"""The `kern` tokenizer on real **kern files: reading, transposing, filtering, writing, MIDI, CLI."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from mgen.core.contracts.errors import ConfigError, DataError
from mgen.core.contracts.tokenizer import to_midi
from mgen.plugins.tokenizers.kern import KernConfig, KernTokenizer

ESSEN = "essen-deutschl-kern"
_KEY_LINE = re.compile(r"^\*([A-Ga-g][#-]?):", re.MULTILINE)


def _toks(text: str) -> list[str]:
    return text.split()


GRID = KernConfig(encoding="grid", intervals=False, meter=False)
#: Durations, no interval or meter tokens: the tokens read plainly.
PLAIN = KernConfig(intervals=False, meter=False)


def _onsets(tokens: list[str], step: float = 0.25) -> list[tuple[int, float]]:
    """(MIDI pitch, onset in quarters) of every note in a well-formed token list, in either
    encoding: a `q<quarters>` token lengthens the note before it; in the grid every token but an
    interval is a step."""
    durations = any(t.startswith("q") for t in tokens)
    out, pos = [], 0.0
    for t in tokens:
        if t[:1] in "+-M":  # an interval or the meter: announces, takes no time
            continue
        if t.isdigit():
            out.append((int(t), round(pos, 6)))
        pos += float(t[1:]) if t.startswith("q") else 0.0 if durations else step
    return out


def _parsed_notes(path: Path) -> list[tuple[int, float]]:
    """What music21 itself reads from a written file, ties merged: (MIDI pitch, onset)."""
    from music21 import converter

    score = converter.parse(str(path), format="humdrum").stripTies()
    return [(n.pitch.midi, float(n.offset)) for n in score.flatten().notes]


def _essen_with_key(root: Path, minor: bool) -> tuple[Path, str]:
    """The first Essen song (sorted) in a major / minor key other than C / a that reads."""
    tok = KernTokenizer()
    for f in sorted((root / ESSEN / "kinder").glob("*.krn")):
        m = _KEY_LINE.search(f.read_text(encoding="latin-1"))
        if not m or m.group(1).islower() != minor or m.group(1).lower() in ("c", "a"):
            continue
        try:
            tok.read(f)
        except DataError:
            continue
        return f, m.group(1)
    pytest.skip(f"no {'minor' if minor else 'major'} song found in {ESSEN}/kinder")


@pytest.mark.parametrize("intervals", [True, False])
@pytest.mark.parametrize("encoding", ["durations", "grid"])
def test_palestrina_round_trip(music21_corpus: Path, tmp_path: Path, encoding: str, intervals):
    tok = KernTokenizer(KernConfig(encoding=encoding, intervals=intervals))
    pieces = tok.read(music21_corpus / "palestrina" / "Agnus_01.krn")
    assert len(pieces) == 5  # one melody per voice
    length = "q" if encoding == "durations" else "_"
    kinds = {"pitch" if t.isdigit() else t[0] if t[0] in "r+-" else t[:1] for t in pieces[0]}
    assert kinds == {"M", "pitch", "r", length, *(("+", "-") if intervals else ())}
    assert all(p[0] == "M4/2" for p in pieces)  # the meter opens each voice
    for i, tokens in enumerate(pieces[:2]):
        path = tok.write(tokens, tmp_path / f"voice{i}")
        assert path.suffix == ".krn"
        assert _parsed_notes(path) == _onsets(tokens)
        assert tok.read(path) == [tokens]  # rests and held notes come back exactly too


@pytest.mark.parametrize("minor", [False, True])
def test_essen_transposed_to_c_major_or_a_minor(shared_data: Path, tmp_path: Path, minor: bool):
    from music21 import converter, key

    path, designation = _essen_with_key(shared_data, minor)
    tokens = KernTokenizer().read(path)[0]
    original = converter.parse(str(path), format="humdrum").stripTies().flatten()
    file_key = original.getElementsByClass(key.Key).first()
    assert file_key is not None and file_key.mode == ("minor" if minor else "major")
    shift = _onsets(tokens)[0][0] - original.notes.first().pitch.midi
    assert (file_key.tonic.pitchClass + shift) % 12 == (9 if minor else 0), designation
    # Every note moved by the same interval, rhythm unchanged.
    assert [(p - shift, o) for p, o in _onsets(tokens)] == [
        (n.pitch.midi, float(n.offset)) for n in original.notes
    ]
    written = KernTokenizer().write(tokens, tmp_path / "song")
    analysed = converter.parse(str(written), format="humdrum").analyze("key")
    # music21's own analysis agrees, or (folk songs end on the tonic) the last note is C / A.
    tonic = 9 if minor else 0
    last = _onsets(tokens)[-1][0] % 12
    assert analysed.tonic.pitchClass == tonic or last == tonic, f"{path.name}: {analysed}"


def test_key_analysis_when_the_file_has_no_key(tmp_path: Path):
    # A D major tune with no *k[..] and no *D: record: music21's analysis finds the key.
    notes = _toks("4d 4e 4f# 4g 4a 4b 4cc# 4dd 4a 4f# 4d 2a 2d")
    f = tmp_path / "dmajor.krn"
    f.write_text("**kern\n*M4/4\n" + "\n".join(notes) + "\n*-\n")
    tokens = KernTokenizer().read(f)[0]
    assert [p for p, _ in _onsets(tokens)][:3] == [60, 62, 64]  # D E F# -> C D E


def test_duration_filter_chords_ties_and_rests(tmp_path: Path):
    # Spine 1 is fine (a chord, a tie, two rests); spine 2 has a triplet eighth (1/3 quarter).
    rows = [  # one row per time point: quarter offsets 0, 1, 4/3, 5/3, 2, 3, 3.5, 4
        ("4c 4e 4g", "4c"),
        ("[4d", "12d"),
        (".", "12e"),
        (".", "12f"),
        ("4d]", "4g"),
        ("8r", "4a"),
        ("8r", "."),
        ("4e", "4b"),
    ]
    text = "**kern\t**kern\n*k[]\t*k[]\n" + "\n".join(f"{a}\t{b}" for a, b in rows) + "\n*-\t*-\n"
    (tmp_path / "two.krn").write_text(text)
    assert KernTokenizer(GRID).read(tmp_path / "two.krn") == [
        _toks("67 _ _ _ 62 _ _ _ _ _ _ _ r _ _ _ 64 _ _ _")
    ]
    assert KernTokenizer(PLAIN).read(tmp_path / "two.krn") == [_toks("67 q1 62 q2 r q1 64 q1")]
    # With intervals (the default), each note after the first is announced by its interval,
    # across a rest too.
    assert KernTokenizer().read(tmp_path / "two.krn") == [
        _toks("M4/4 67 q1 -5 62 q2 r q1 +2 64 q1")
    ]
    bad = tmp_path / "bad.krn"
    bad.write_text("**kern\n*k[]\n4c\n12d\n12e\n12f\n*-\n")
    with pytest.raises(DataError, match="0.333333 not in acceptable_durations"):
        KernTokenizer().read(bad)
    triplets = {"time_step": 1 / 12, "acceptable_durations": (1 / 3, 1.0)}
    widened = KernTokenizer(KernConfig(**triplets, encoding="grid"))
    # Onsets in twelfths of a quarter: 0, 1, 4/3, 5/3 quarters.
    assert _onsets(widened.read(bad)[0], 1) == [(60, 0), (62, 12), (64, 16), (65, 20)]
    widened = KernTokenizer(KernConfig(**triplets, intervals=False, meter=False))
    tokens = widened.read(bad)[0]
    assert tokens == _toks("60 q1 62 q0.333333 64 q0.333333 65 q0.333333")
    assert _parsed_notes(widened.write(tokens, tmp_path / "triplets")) == [
        (60, 0.0), (62, 1.0), (64, pytest.approx(4 / 3)), (65, pytest.approx(5 / 3))
    ]  # fmt: skip


def test_write_skips_malformed_tokens_and_splits_long_notes(tmp_path: Path):
    tok = KernTokenizer(GRID)
    tokens = [*_toks("_ <start> 60 _ bogus r _ 62"), *["_"] * 18, "300", "<end>"]
    path = tok.write(tokens, tmp_path / "gen")
    # 62 lasts 19 steps from onset 1.0 (4.75 quarters): it crosses the barline, so it is tied.
    assert "[" in path.read_text() and "]" in path.read_text()
    assert _parsed_notes(path) == [(60, 0.0), (62, 1.0)]
    assert tok.read(path) == [_toks("60 _ r _") + ["62"] + ["_"] * 18]


def test_durations_decoding_of_generated_tokens(tmp_path: Path):
    # The same melody in the durations encoding, with what a model may also write: a duration
    # with no note before it, a note with no duration (65: left out), a grid hold, junk and an
    # off-grid duration (skipped).
    tok = KernTokenizer(PLAIN)
    tokens = _toks("q1 <start> 60 q0.25 bogus r q0.25 65 62 q4 q0.5 _ 300 q0.3 <end>")
    path = tok.write(tokens, tmp_path / "gen")
    assert _parsed_notes(path) == [(60, 0.0), (62, 0.5)]
    # 62 lasts 4.75 quarters, written longest first; rests and held notes come back exactly.
    assert tok.read(path) == [_toks("60 q0.25 r q0.25 62 q4 q0.75")]
    assert tok.count_notes(tok.read(path)[0]) == 2
    assert [tok.loop_neutral(t) for t in _toks("q4 q0.75 _ 62 r q0.3 +2")] == [
        True, True, True, False, False, False, False
    ]  # fmt: skip


def test_interval_tokens_are_written_from_the_pitches(tmp_path: Path):
    # The pitch tokens decide what is written: a wrong interval from a model changes nothing.
    tok = KernTokenizer()
    path = tok.write(_toks("<start> 60 q1 +7 67 q1 -3 62 q2 +12 74 q1 <end>"), tmp_path / "gen")
    assert _parsed_notes(path) == [(60, 0.0), (67, 1.0), (62, 2.0), (74, 4.0)]
    # Tokens without a meter are written in 4/4, which reading them back says.
    assert tok.read(path) == [_toks("M4/4 60 q1 +7 67 q1 -5 62 q2 +12 74 q1")]
    assert tok.melody(tok.read(path)[0]) == [60, 67, 62, 74]
    assert tok.count_notes(tok.read(path)[0]) == 4


def test_runs_written_before_the_encoding_setting_read_the_grid():
    config = KernConfig().to_dict()
    del config["encoding"], config["intervals"], config["meter"]  # as version 2 wrote it
    state = {"version": "2", "config": config, "vocab": ["60", "_"], "extra": {}}
    old = KernTokenizer.from_state_dict(state).config
    assert (old.encoding, old.intervals, old.meter) == ("grid", False, False)
    # The shipped model reads what it was trained on: durations, intervals, the meter.
    from mgen.core.runs.run import load_run

    now = load_run("palestrina-kern").tokenizer.config
    assert (now.encoding, now.intervals, now.meter) == ("durations", True, True)


def test_to_midi(music21_corpus: Path, tmp_path: Path):
    import pretty_midi

    tok = KernTokenizer()
    tokens = tok.read(music21_corpus / "bach" / "bwv281.krn")[0]
    path = to_midi(tok, tokens, tmp_path / "bach.mid")
    notes = sorted(pretty_midi.PrettyMIDI(str(path)).instruments[0].notes, key=lambda n: n.start)
    assert [n.pitch for n in notes] == [p for p, _ in _onsets(tokens)]
    seconds = 60 / tok.config.tempo_bpm  # per quarter note
    assert [round(n.start / seconds, 3) for n in notes] == [o for _, o in _onsets(tokens)]
    with pytest.raises(DataError, match="no notes"):
        to_midi(tok, _toks("r _ _ _"), tmp_path / "silent.mid")


def test_parse_primer():
    tok = KernTokenizer(PLAIN)
    assert tok.parse_primer(" 60 q1\n62 q0.5 r q0.5 ") == _toks("60 q1 62 q0.5 r q0.5")
    # With intervals the user types pitches only; given intervals are recomputed.
    assert KernTokenizer().parse_primer("60 q1 62 q0.5 r q0.5 +9 59") == _toks(
        "60 q1 +2 62 q0.5 r q0.5 -3 59"
    )
    for bad in ("60 C4", "60 _", "60 q0.3"):  # a grid hold or an off-grid duration
        with pytest.raises(ConfigError, match="duration such as q1"):
            tok.parse_primer(bad)
    grid = KernTokenizer(GRID)
    assert grid.parse_primer(" 60 _ _ _\n62 _ r _ ") == _toks("60 _ _ _ 62 _ r _")
    with pytest.raises(ConfigError, match="'q1'"):
        grid.parse_primer("60 q1")


def test_config_round_trip_and_validation():
    cfg = KernConfig(
        acceptable_durations=(0.5, 1.0), time_step=0.5, transpose=False, encoding="grid",
        intervals=False,
    )  # fmt: skip
    assert KernConfig.from_dict(cfg.to_dict()) == cfg
    assert KernConfig.from_dict(KernConfig().to_dict()) == KernConfig()
    with pytest.raises(ConfigError, match="time_step"):
        KernConfig.from_dict({"time_step": 0.3})
    with pytest.raises(ConfigError, match="multiple of time_step"):
        KernConfig.from_dict({"acceptable_durations": [0.25, 0.75], "time_step": 0.5})
    with pytest.raises(ConfigError, match="acceptable_durations must be"):
        KernConfig.from_dict({"acceptable_durations": 1})
    with pytest.raises(ConfigError, match="encoding must be one of durations, grid"):
        KernConfig.from_dict({"encoding": "notes"})


def test_default_dataset(music21_corpus: Path):
    from mgen.core.data.prepare import dataset_files

    assert KernTokenizer.recipe.dataset == "palestrina-kern"
    files = dataset_files("palestrina-kern")
    assert len([f for f in files if f.parent.name == "palestrina"]) > 1000
    assert any(f.parent.name == "bach" for f in files)
    assert all(f.suffix == ".krn" for f in files)


@pytest.mark.slow
def test_cli_trains_and_samples(cli, shared_data: Path, tmp_path: Path):
    data = tmp_path / "essen"
    data.mkdir()
    for f in sorted((shared_data / ESSEN / "erk").glob("*.krn"))[:20]:
        shutil.copy(f, data)
    run = tmp_path / "run"
    result = cli(
        "train",
        "--tokenizer",
        "kern",
        "--data",
        data,
        "--max-steps",
        "5",
        "--hidden-size",
        "32",
        "--embed-dim",
        "16",
        "--out",
        run,
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "s"
    result = cli(
        "sample",
        "--run",
        run,
        "--decoder",
        "argmax",
        "-n",
        "64",
        "--primer",
        "60 q1 62 q0.5 64 q0.5",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    krn, mid = out / "sample-001.krn", out / "sample-001.mid"
    assert krn.is_file() and mid.is_file()
    assert _parsed_notes(krn)[:3] == [(60, 0.0), (62, 1.0), (64, 1.5)]


def test_rests_before_the_first_note_and_after_the_last_are_trimmed(tmp_path: Path):
    # Two bars of rest (a voice waiting for its entry), a note, a rest, a note, a closing rest.
    f = tmp_path / "entry.krn"
    f.write_text("**kern\n*M4/4\n*k[]\n1r\n=\n1r\n=\n2c\n4r\n4d\n=\n1r\n*-\n")
    assert KernTokenizer(GRID).read(f) == [_toks("60 _ _ _ _ _ _ _ r _ _ _ 62 _ _ _")]
    assert KernTokenizer(PLAIN).read(f) == [_toks("60 q2 r q1 62 q1")]
    kept = KernTokenizer(
        KernConfig(trim_rests=False, encoding="grid", intervals=False, meter=False)
    ).read(f)[0]
    assert kept[:2] == ["r", "_"] and kept.count("r") == 3 and len(kept) == 64
    kept = KernTokenizer(KernConfig(trim_rests=False, intervals=False, meter=False)).read(f)[0]
    assert kept == _toks("r q8 60 q2 r q1 62 q1 r q4")


def test_each_voice_opens_with_its_meter_and_is_written_in_it(music21_corpus: Path, tmp_path: Path):
    """The meter token: Palestrina's breve bars (4/2) and triple 3/2 written as stated, a voice
    entering after rests keeps its place in the bar, and runs from before it read without it."""
    from mgen.evaluate.validity import judge, kind_of

    tok = KernTokenizer()
    folder = music21_corpus / "palestrina"
    [altus] = [p for p in tok.read(folder / "Agnus_01.krn") if p[1] == "r"][:1]
    assert altus[:4] == ["M4/2", "r", "q4", "62"]  # enters half a 4/2 bar in, as written
    text = tok.write(altus, tmp_path / "altus").read_text()
    assert text.startswith("**kern\n*M4/2\n") and "\n1r\n1d\n=2\n" in text
    triple = tok.read(folder / "Agnus_II_03_b.krn")[0]
    assert triple[0] == "M3/2"
    written = tok.write(triple, tmp_path / "triple")
    assert "*M3/2" in written.read_text()
    verdict = judge(written, kind_of(written, "kern"))
    assert all(not u.errors for u in verdict.units), [u.errors for u in verdict.units]
    config = {k: v for k, v in KernConfig().to_dict().items() if k != "meter"}  # version 3's
    state = {"version": "3", "config": config, "vocab": ["60", "q1"], "extra": {}}
    assert KernTokenizer.from_state_dict(state).config.meter is False  # a run from before
    assert KernTokenizer(KernConfig(meter=False)).read(folder / "Agnus_01.krn")[0][0] == "67"
