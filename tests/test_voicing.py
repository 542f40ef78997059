"""midi-tracks' `no-parallels` rule (mgen.plugins.tokenizers.midi_tracks_voicing): refused
exactly where `mgen eval` would count a parallel fifth or octave, asked for by name, saved as a
run's choice, and unknown names refused in one line."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from conftest import assert_one_line_error, mgen

from mgen.core.contracts.errors import ConfigError
from mgen.core.contracts.grammar import with_rules
from mgen.core.runs.decoding import Decoding, resolve_rules
from mgen.evaluate.voices import piece_voices
from mgen.plugins.tokenizers.midi_tracks import MidiTracksConfig, MidiTracksTokenizer

HEAD = ["tracks_2", "inst_0", "inst_0", "tempo_100"]


@pytest.fixture(scope="module")
def tok() -> MidiTracksTokenizer:
    t = MidiTracksTokenizer()
    t.fit(Counter())
    return t


def _allowed_pitches(tok: MidiTracksTokenizer, tokens: list[str], rule: bool) -> set[int]:
    g = tok.grammar(tok.vocab, 1)
    g = with_rules(g, ["no-parallels"] if rule else [])
    g.feed(tokens)
    mask = g.allowed()[0]
    return {int(t) for t, ok in zip(tok.vocab.tokens, mask, strict=True) if ok and t.isdigit()}


def test_the_rule_refuses_exactly_the_parallels_mgen_eval_counts(tok):
    # soprano G4 (67) over bass C4 (60): a fifth. Then the bass moves up to D (62).
    before = [*HEAD, "t1", "tr1", "v4", "60", "d4", "tr0", "v4", "67", "d4", "t4", "tr1", "62",
              "d4", "tr0"]  # fmt: skip
    free = _allowed_pitches(tok, before, rule=False)
    ruled = _allowed_pitches(tok, before, rule=True)
    assert 69 in free and 69 not in ruled  # A4 over D: a parallel fifth, moving up
    assert 81 not in ruled  # a compound fifth, still up
    assert 57 in ruled  # A3 over D, moving down: contrary motion, allowed
    assert free - ruled == {p for p in range(68, 128) if (p - 62) % 12 == 7}
    # the first voice at the onset is free: nothing is written there yet to move against
    first = [*HEAD, "t1", "tr0", "v4", "67", "d4", "tr1", "v4", "60", "d4", "t4"]
    assert _allowed_pitches(tok, first, rule=True) == _allowed_pitches(tok, first, rule=False)


def test_with_intervals_the_rule_refuses_the_intervals_that_lead_to_parallels():
    tok = MidiTracksTokenizer(MidiTracksConfig(intervals=True))
    tok.fit(Counter())
    before = [*HEAD, "t1", "tr1", "v4", "60", "d4", "tr0", "v4", "67", "d4", "t4", "tr1", "i+2",
              "62", "d4", "tr0"]  # fmt: skip

    def moves(rule: bool) -> set[int]:
        g = with_rules(tok.grammar(tok.vocab, 1), ["no-parallels"] if rule else [])
        g.feed(before)
        mask = g.allowed()[0]
        return {int(t[1:]) for t, ok in zip(tok.vocab.tokens, mask, strict=True)
                if ok and t[:2] in ("i+", "i-")}  # fmt: skip

    assert moves(False) - moves(True) == {p - 67 for p in range(68, 128) if (p - 62) % 12 == 7}


def test_octaves_too_and_only_at_shared_onsets(tok):
    octave = [*HEAD, "t1", "tr0", "v4", "60", "d4", "tr1", "v4", "72", "d4", "t4", "tr0", "62",
              "d4", "tr1"]  # fmt: skip
    assert {74, 86} & _allowed_pitches(tok, octave, rule=True) == set()
    assert 74 in _allowed_pitches(tok, octave, rule=False)
    # the second voice did not start a note at the onset before: no pair, nothing refused
    apart = [*HEAD, "t1", "tr0", "v4", "60", "d4", "t2", "tr1", "v4", "72", "d2", "t2", "tr0",
             "62", "d4", "tr1"]  # fmt: skip
    assert _allowed_pitches(tok, apart, rule=True) == _allowed_pitches(tok, apart, rule=False)


def test_unknown_rules_and_grammars_without_rules_are_config_errors(tok):
    with pytest.raises(ConfigError, match="no-parallels"):
        with_rules(tok.grammar(tok.vocab, 1), ["no-fourths"])
    with pytest.raises(ConfigError, match="no grammar"):
        with_rules(None, ["no-parallels"])
    assert resolve_rules({"decoding": {"rules": ["no-parallels"]}}, None) == ["no-parallels"]
    assert resolve_rules({"decoding": {"rules": ["no-parallels"]}}, []) == []
    d = Decoding("temperature", {"temperature": 1.0}, rules=["no-parallels"])
    assert Decoding.from_dict(d.to_dict()) == d
    assert d.describe() == "temperature (temperature=1.0) + no-parallels"


def _parallels(folder: Path) -> tuple[int, int]:
    from mgen.formats.midi.read import read_midi

    figures = [piece_voices(read_midi(p)) for p in sorted(folder.glob("sample-*.mid"))]
    assert figures
    return (sum(f["parallel_fifths"] for f in figures),
            sum(f["parallel_octaves"] for f in figures))  # fmt: skip


def test_bach_satb_sampled_with_the_rule_writes_no_parallels(tmp_path):
    common = ["sample", "--run", "bach-satb", "-k", "6", "-n", "500", "--seed", "3"]
    code, out = mgen(*common, "--rule", "no-parallels", "--out", tmp_path / "ruled")
    assert code == 0, out
    code, out = mgen(*common, "--rule", "none", "--out", tmp_path / "free")
    assert code == 0, out
    assert _parallels(tmp_path / "ruled") == (0, 0)
    assert sum(_parallels(tmp_path / "free")) > 0  # the model alone writes them


def test_a_runs_saved_rule_is_used_unless_told_otherwise(tmp_path):
    from mgen import api
    from mgen.core.runs.artifact import RunDir
    from mgen.core.runs.shipped import entry_points_by_name, folder

    run = tmp_path / "run"
    shutil.copytree(folder(entry_points_by_name()["bach-satb"]), run)
    RunDir(run).save_decoding(Decoding("temperature", rules=["no-parallels"]).to_dict())
    loaded = api.load_run(run)
    ruled = api.sample(loaded, n=500, num_samples=6, seed=3, out=tmp_path / "a")
    free = api.sample(loaded, n=500, num_samples=6, seed=3, rules=[], out=tmp_path / "b")
    assert _parallels(tmp_path / "a") == (0, 0)
    assert ruled.pieces != free.pieces
    raw = api.sample(loaded, n=60, num_samples=1, seed=3, grammar=False, out=tmp_path / "c")
    assert raw.pieces  # --no-grammar samples the raw model: no grammar, so no rule either


def test_an_unknown_rule_is_one_line_and_status_2(tmp_path):
    code, out = mgen("sample", "--run", "bach-satb", "--rule", "no-fourths", "-n", "20",
                     "--out", tmp_path / "s")  # fmt: skip
    assert_one_line_error(code, out, "no-fourths", "no-parallels")
    assert code == 2
    assert not (tmp_path / "s").exists()
    code, out = mgen("sample", "--run", "folk-abc", "--rule", "no-parallels", "-n", "20",
                     "--out", tmp_path / "t")  # fmt: skip
    assert_one_line_error(code, out, "no-parallels", "no rules")
    assert not (tmp_path / "t").exists()


def test_an_accompaniment_takes_the_rule_too(chorale_midi, tmp_path):
    from mgen import api

    result = api.accompany("bach-satb", chorale_midi, "0,0,0", n=900, num_samples=3, seed=2,
                           rules=["no-parallels"], out=tmp_path / "acc")  # fmt: skip
    assert _parallels(tmp_path / "acc") == (0, 0)
    assert len(result.pieces) == 3  # each kept the given soprano (else a DataError)
