"""midi-tracks (issue 28): MIDI as people have it, read and written as tracks.

read -> write -> read gives the same tokens on every multi-track test file (drums, several
programs, two tracks of one program, tempo and meter changes, format 0 and 1, Lakh-like random
files, a Bach chorale), in both timings; the written file, read by symusic, pretty_midi and
mido, has the tracks, programs, drum flags and notes the tokens say; the grammar accepts every
piece read and refuses broken ones; `mgen sample --instruments` writes exactly the ensemble
asked for.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest
import symusic
from conftest import TINY, assert_one_line_error, mgen

import mgen as api_root
from mgen.core.contracts.errors import ConfigError, DataError
from mgen.core.contracts.grammar import grammar_of
from mgen.formats.midi import gm
from mgen.plugins.tokenizers.midi_tracks import MidiTracksConfig, MidiTracksTokenizer
from mgen.plugins.tokenizers.midi_tracks_tokens import decode

TIMINGS = ("shifts", "bars")

# -- test files ---------------------------------------------------------------------------------


def quartet_with_drums(path: Path) -> Path:
    """symusic, format 1: two violins, viola, cello and a drum kit; notes off the grid, a
    re-struck held note, velocities that move; tempo 96 -> 140 and 4/4 -> 3/4 -> 6/8 (one
    stated inside a bar), a pickup bar of silence."""
    s = symusic.Score(480)
    s.tempos.extend([symusic.Tempo(0, qpm=96.0), symusic.Tempo(480 * 12, qpm=140.0)])
    s.time_signatures.extend([symusic.TimeSignature(0, 4, 4), symusic.TimeSignature(480 * 12, 3, 4),
                              symusic.TimeSignature(480 * 19, 6, 8)])  # fmt: skip
    parts = [("Violin I", 40, False, 76), ("Violin II", 40, False, 69), ("Viola", 41, False, 60),
             ("Cello", 42, False, 45), ("Kit", 0, True, 0)]  # fmt: skip
    for n, (name, program, drum, base) in enumerate(parts):
        track = symusic.Track(name=name, program=program, is_drum=drum)
        for i in range(40):
            pitch = [36, 38, 42, 46, 49][i % 5] if drum else base + (i * 5 + n) % 9
            start = 480 * 4 + i * 240 + (7 if i % 4 == 1 else 0)
            track.notes.append(symusic.Note(start, 180 + 120 * (i % 3), pitch, 30 + (i * 17) % 90))
        if not drum:  # held across its own re-strike
            track.notes.append(symusic.Note(480 * 4, 960, base + n % 9, 64))
        s.tracks.append(track)
    s.dump_midi(str(path))
    return path


def band_format0(path: Path) -> Path:
    """mido, format 0: one MIDI track holding piano, bass, guitar and drums on four channels
    (drums on channel 10), tempo and meter changes mid-track, running note-offs as velocity 0."""
    mid = mido.MidiFile(type=0, ticks_per_beat=96)
    events = [(0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120))),
              (0, mido.MetaMessage("time_signature", numerator=4, denominator=4)),
              (96 * 8, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(80))),
              (96 * 8, mido.MetaMessage("time_signature", numerator=5, denominator=4))]  # fmt: skip
    for channel, program in ((0, 0), (1, 33), (2, 25)):
        events.append((0, mido.Message("program_change", channel=channel, program=program)))
    for i in range(48):
        at = i * 48
        for channel, pitch in ((0, 60 + i % 12), (0, 64 + i % 12), (1, 36 + i % 5), (2, 55 + i % 7),
                               (9, (36, 42, 38, 42)[i % 4])):  # fmt: skip
            events.append(
                (at, mido.Message("note_on", channel=channel, note=pitch, velocity=50 + i))
            )
            events.append(
                (at + 40, mido.Message("note_on", channel=channel, note=pitch, velocity=0))
            )
    track, now = mido.MidiTrack(), 0
    for at, msg in sorted(
        events, key=lambda e: (e[0], e[1].type == "note_on" and e[1].velocity > 0)
    ):
        track.append(msg.copy(time=at - now))
        now = at
    mid.tracks.append(track)
    mid.save(str(path))
    return path


def lakh_like(path: Path, seed: int, tracks: int | None = None) -> Path:
    """pretty_midi: 4-12 random tracks (drums, bass, chords, melody, repeated programs), random
    tempo; notes on and off a sixteenth grid."""
    rng = np.random.default_rng(seed)
    pm = pretty_midi.PrettyMIDI(initial_tempo=float(rng.integers(60, 180)))
    for k in range(tracks or int(rng.integers(4, 13))):
        drum = k == 0 or rng.random() < 0.1
        inst = pretty_midi.Instrument(int(rng.integers(0, 8) * 8), is_drum=drum, name=f"t{k}")
        t = 0.0
        for _ in range(int(rng.integers(5, 40))):
            t += float(rng.choice([0.0, 0.125, 0.25, 0.5, 0.37]))
            pitch = int(rng.integers(35, 60) if drum else rng.integers(30, 90))
            inst.notes.append(pretty_midi.Note(int(rng.integers(1, 128)), pitch, t,
                                               t + float(rng.choice([0.1, 0.25, 1.0, 3.0]))))  # fmt: skip
        pm.instruments.append(inst)
    pm.write(str(path))
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, chorale_midi: Path) -> list[Path]:
    folder = tmp_path_factory.mktemp("multitrack")
    made = [quartet_with_drums(folder / "quartet.mid"), band_format0(folder / "band.mid"),
            lakh_like(folder / "wide.mid", 99, tracks=20)]  # fmt: skip
    made += [lakh_like(folder / f"lakh{seed}.mid", seed) for seed in range(6)]
    return [*made, chorale_midi]


def _tok(**options) -> MidiTracksTokenizer:
    tok = MidiTracksTokenizer(MidiTracksConfig(**options))
    tok.fit(Counter())
    return tok


# -- reading and writing ------------------------------------------------------------------------


#: Each timing, and melodic intervals (with shifts).
SETTINGS = [{"timing": t} for t in TIMINGS] + [{"intervals": True}]
IDS = [*TIMINGS, "intervals"]


@pytest.mark.parametrize("settings", SETTINGS, ids=IDS)
def test_read_write_read_gives_the_same_tokens(files: list[Path], tmp_path: Path, settings):
    tok = _tok(**settings)
    for f in files:
        [tokens] = tok.read(f)
        [again] = tok.read(tok.write(tokens, tmp_path / f"{len(settings)}-{f.stem}"))
        assert again == tokens, f.name


def test_intervals_announce_each_tracks_next_pitch(files: list[Path]):
    plain, with_intervals = _tok(), _tok(intervals=True)
    for f in files:
        [tokens] = with_intervals.read(f)
        assert [t for t in tokens if t[:2] not in ("i+", "i-")] == plain.read(f)[0]
        track, before = 0, {}
        for t, nxt in zip(tokens, tokens[1:], strict=False):
            if t.startswith("tr") and t[2:].isdigit():
                track = int(t[2:])
            elif t[:1] == "i" and t[1:2] in "+-":
                assert int(nxt) == before[track] + int(t[1:]), f.name
            if t.isdigit():
                before[track] = int(t)
    assert "i+2" in with_intervals.vocab and "i+2" not in plain.vocab


def test_what_the_tokens_hold(files: list[Path]):
    """The header names the ensemble; two violins stay two tracks; drums are k tokens;
    velocities, tempo and meter changes are kept."""
    tok = _tok()
    [tokens] = tok.read(files[0])
    assert tokens[:8] == ["tracks_5", "inst_40", "inst_40", "inst_41", "inst_42", "inst_drums",
                          "tempo_100", "meter_4/4"]  # fmt: skip
    kinds = Counter(t.rstrip("0123456789") for t in tokens)
    assert kinds["k"] == 40 and kinds["tr"] > 40 and kinds["v"] > 20
    assert "tempo_140" in tokens and "meter_3/4" in tokens and "meter_6/8" in tokens
    assert tokens[8] == "tr0"  # the silent pickup bar is not kept
    assert tok.count_notes(tokens) == 40 * 5  # each held, re-struck note is one note
    [band] = tok.read(files[1])
    assert band[:6] == ["tracks_4", "inst_0", "inst_33", "inst_25", "inst_drums", "tempo_120"]


def test_the_written_file_reads_the_same_in_symusic_pretty_midi_and_mido(files, tmp_path):
    """A DAW's view: one named track per instrument or voice with its program, drums on
    channel 10, tempo and meter events; the same notes in all three readers as in the tokens."""
    tok = _tok()
    for f in files[:3]:
        [tokens] = tok.read(f)
        path = tok.write(tokens, tmp_path / f.stem)
        layout = decode(tokens, tok.config, tok.tempo)
        want = [(p, d, _notes_of(layout, i)) for i, (p, d) in enumerate(layout.tracks)]
        assert _symusic(path) == _pretty(path) == _mido(path) == want, f.name
    names = [t.name for t in symusic.Score(str(tmp_path / "quartet.mid")).tracks]
    assert names == ["Violin 1", "Violin 2", "Viola", "Cello", "Drums"]
    pm = pretty_midi.PrettyMIDI(str(tmp_path / "quartet.mid"))
    assert [(t.numerator, t.denominator) for t in pm.time_signature_changes] == [(4, 4), (3, 4),
                                                                                (6, 8)]  # fmt: skip
    assert sorted({round(b) for b in pm.get_tempo_changes()[1]}) == [100, 140]


def _notes_of(layout, i: int) -> list[tuple[int, int, int]]:
    """(start tick, pitch, velocity) of track i at 480 ticks a beat, 4 steps a beat."""
    mine = layout.track == i
    from mgen.plugins.tokenizers.midi_grid import bin_velocity

    vel = [bin_velocity(int(b), 8) for b in layout.velocity[mine]]
    return sorted(zip((layout.onset[mine] * 120).tolist(), layout.pitch[mine].tolist(), vel,
                      strict=True))  # fmt: skip


def _symusic(path: Path):
    score = symusic.Score(str(path))
    assert score.ticks_per_quarter == 480
    return [(t.program, t.is_drum, sorted((n.time, n.pitch, n.velocity) for n in t.notes))
            for t in score.tracks]  # fmt: skip


def _pretty(path: Path):
    pm = pretty_midi.PrettyMIDI(str(path))
    tick = pm.time_to_tick
    return [(i.program, i.is_drum, sorted((tick(n.start), n.pitch, n.velocity) for n in i.notes))
            for i in pm.instruments]  # fmt: skip


def _mido(path: Path):
    """Per MIDI track that has notes: the program, drums (channel 10) and note-ons."""
    out = []
    for track in mido.MidiFile(str(path)).tracks:
        now, program, notes, channels = 0, 0, [], set()
        for msg in track:
            now += msg.time
            if msg.type == "program_change":
                program = msg.program
            elif msg.type == "note_on" and msg.velocity > 0:
                notes.append((now, msg.note, msg.velocity))
                channels.add(msg.channel)
        if notes:
            assert len(channels) == 1
            out.append((program, channels == {9}, sorted(notes)))
    return out


def test_a_drum_track_survives_read_and_write(tmp_path: Path):
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    kit = pretty_midi.Instrument(0, is_drum=True, name="Kit")
    for i in range(16):
        kit.notes.append(pretty_midi.Note(100, (36, 42, 38, 42)[i % 4], i * 0.25, i * 0.25 + 0.1))
    pm.instruments.append(kit)
    pm.write(str(tmp_path / "drums.mid"))
    tok = _tok()
    [tokens] = tok.read(tmp_path / "drums.mid")
    assert tokens[:2] == ["tracks_1", "inst_drums"] and "k36" in tokens and "36" not in tokens
    out = tok.write(tokens, tmp_path / "again")
    [drums] = pretty_midi.PrettyMIDI(str(out)).instruments
    assert drums.is_drum and drums.name == "Drums"
    assert [n.pitch for n in drums.notes] == [(36, 42, 38, 42)[i % 4] for i in range(16)]
    assert [round(n.start, 3) for n in drums.notes] == [i * 0.25 for i in range(16)]
    assert tok.read(out) == [tokens]


def test_more_tracks_than_midi_has_channels_join_their_program(files: list[Path], tmp_path):
    tok = _tok(max_tracks=6)
    [tokens] = tok.read(files[2])  # 20 tracks
    assert tokens[0] == "tracks_6"
    [again] = tok.read(tok.write(tokens, tmp_path / "six"))
    assert again == tokens


def test_piano_only_and_no_notes(tmp_path: Path, files: list[Path]):
    [tokens] = _tok(piano_only=True).read(files[1])
    assert tokens[:2] == ["tracks_1", "inst_0"]
    with pytest.raises(DataError, match="no piano notes"):
        _tok(piano_only=True).read(files[0])
    with pytest.raises(DataError, match="no notes to write"):
        _tok().write(["tracks_1", "inst_0", "tempo_120"], tmp_path / "empty")


def test_transposition_moves_pitches_not_drums():
    tok = _tok(transpose="-2..2")
    assert tok.transpositions() == (-2, -1, 0, 1, 2)
    assert [tok.transpose(t, 2) for t in ("60", "k36", "inst_40", "tr1", "d4")] == [
        "62", "k36", "inst_40", "tr1", "d4"]  # fmt: skip


def test_melody_and_settings():
    tok = _tok()
    tokens = ["tracks_2", "inst_40", "inst_drums", "tempo_120", "tr0", "v3", "60", "d4", "64",
              "d4", "tr1", "v2", "k90", "t4", "tr0", "62", "d4"]  # fmt: skip
    assert tok.melody(tokens) == [64, 62] and tok.count_notes(tokens) == 4
    assert tok.loop_neutral("t16") and _tok(timing="bars").loop_neutral("bar")
    for bad in ({"timing": "beats"}, {"velocities": 99}, {"max_tracks": 17}, {"tempo_change": -1}):
        with pytest.raises(ConfigError):
            MidiTracksConfig.from_dict(bad)
    cfg = MidiTracksConfig(timing="bars", velocities=0)
    assert MidiTracksConfig.from_dict(cfg.to_dict()) == cfg
    assert not any(t.startswith("v") for t in _tok(velocities=0).table)


# -- the grammar --------------------------------------------------------------------------------


@pytest.mark.parametrize("settings", SETTINGS, ids=IDS)
def test_the_grammar_accepts_every_piece_read(files: list[Path], settings):
    tok = _tok(**settings)
    for f in files:
        [tokens] = tok.read(f)
        at = grammar_of(tok, tok.vocab, 1).accepts(tokens)
        assert at is None, (f.name, at, tokens[max(0, at - 8) : at + 2])


HEAD = ["tracks_2", "inst_40", "inst_drums", "tempo_120"]
BROKEN = [
    (["tracks_2", "inst_40", "tempo_120"], 2, "fewer instruments than declared"),
    (["tracks_1", "inst_40", "inst_41"], 2, "more instruments than declared"),
    ([*HEAD, "tr2"], 4, "a track not declared"),
    ([*HEAD, "tr1", "60"], 5, "a pitch on the drum track"),
    ([*HEAD, "tr0", "k36"], 5, "a drum hit on a pitched track"),
    ([*HEAD, "tr0", "64", "d4", "60"], 7, "pitches descending within an onset"),
    ([*HEAD, "tr1", "k36", "tr0"], 6, "an earlier track within an onset"),
    ([*HEAD, "tr0", "60", "d4", "t4", "tr0"], 8, "the track in force named again"),
    ([*HEAD, "60"], 4, "a note before any track"),
    ([*HEAD, "tr0", "127", "d4", "v2"], 7, "a velocity no note can follow"),
    ([*HEAD, "tr0", "60"], None, "ending before a note's duration"),
]


BROKEN_INTERVALS = [
    ([*HEAD, "tr0", "i+2", "60"], 5, "an interval before a track's first pitch"),
    ([*HEAD, "tr0", "60", "d4", "t4", "62"], 8, "a later pitch without its interval"),
    ([*HEAD, "tr0", "60", "d4", "t4", "i+2", "64"], 9, "a pitch the interval does not lead to"),
    ([*HEAD, "tr0", "60", "d4", "t4", "i+2", "62", "d4", "i-5"], 11, "a chord going down"),
]


@pytest.mark.parametrize(("tokens", "at", "why"), BROKEN + BROKEN_INTERVALS,
                         ids=[b[2] for b in BROKEN + BROKEN_INTERVALS])  # fmt: skip
def test_the_grammar_refuses_broken_pieces(tokens, at, why):
    tok = _tok(intervals=(tokens, at, why) in BROKEN_INTERVALS)
    found = grammar_of(tok, tok.vocab, 1).accepts(tokens)
    assert found == (at if at is not None else len(tokens)), why


@pytest.mark.parametrize("settings", SETTINGS, ids=IDS)
def test_random_walks_under_the_grammar_never_stall_and_write(settings, tmp_path: Path):
    """Any token the grammar allows, drawn at random: no sample is ever left without a next
    token, every one is written, and what is read of it is read again from its writing."""
    tok = _tok(**settings)
    rng = np.random.default_rng(0)
    rules = grammar_of(tok, tok.vocab, 16)
    ids, ends = [], np.zeros(16, dtype=int)
    for step in range(300):
        allowed = rules.allowed()
        ends = np.where(allowed[:, tok.vocab.end_id], step, ends)  # it may end before `step`
        allowed[:, tok.vocab.end_id] = False
        assert allowed.any(axis=1).all()
        ids.append([rng.choice(np.flatnonzero(row)) for row in allowed])
        rules.advance(np.array(ids[-1]))
    for n, (row, end) in enumerate(zip(np.array(ids).T, ends, strict=True)):
        tokens = tok.vocab.decode(row[:end].tolist())
        assert grammar_of(tok, tok.vocab, 1).accepts(tokens) is None
        [once] = tok.read(tok.write(tokens, tmp_path / f"{n}"))
        assert tok.read(tok.write(once, tmp_path / f"{n}-again")) == [once]


def test_bars_grammar_keeps_positions_inside_the_bar():
    tok = _tok(timing="bars")
    head = ["tracks_1", "inst_0", "tempo_120", "meter_3/4", "bar"]
    assert grammar_of(tok, tok.vocab, 1).accepts([*head, "pos11", "tr0", "60", "d2"]) is None
    assert grammar_of(tok, tok.vocab, 1).accepts([*head, "pos12"]) == 5  # 3/4 has 12 steps
    assert grammar_of(tok, tok.vocab, 1).accepts([*head, "pos4", "tr0", "60", "d2", "pos4"]) == 9


# -- choosing the ensemble ----------------------------------------------------------------------


def test_general_midi_names():
    assert [gm.program_of(n) for n in ("violin", "Viola", "cello", "piano", "bass", "42")] == [
        40, 41, 42, 0, 33, 42]  # fmt: skip
    assert gm.program_of("Electric Guitar (jazz)") == gm.program_of("electric-guitar-jazz") == 26
    assert {gm.program_of(v) for v in ("soprano", "alto", "tenor", "bass voice")} == {52}
    assert len(gm.GM_NAMES) == 128 and gm.family_of(41) == "Strings"
    assert gm.DRUMS[42] == "Closed Hi-Hat" and gm.drum_of("closed hi-hat") == 42
    assert gm.instrument_of("drums") == gm.Instrument("Drums", 0, True)
    with pytest.raises(ConfigError, match="did you mean 'violin'.*known: piano"):
        gm.program_of("violn")
    with pytest.raises(ConfigError, match="0-127"):
        gm.program_of("128")


def test_with_ensemble_opens_the_primer():
    tok = _tok()
    assert tok.with_ensemble(["violin", "violin", "41", "drums"], ["tempo_90"]) == [
        "tracks_4", "inst_40", "inst_40", "inst_41", "inst_drums", "tempo_90"]  # fmt: skip
    with pytest.raises(ConfigError, match="unknown instrument 'kazooo'"):
        tok.with_ensemble(["violin", "kazooo"], [])
    with pytest.raises(ConfigError, match="at most 16 tracks"):
        tok.with_ensemble(["piano"] * 17, [])
    with pytest.raises(ConfigError, match="names its own instruments"):
        tok.with_ensemble(["piano"], ["tracks_1", "inst_0"])


@pytest.fixture(scope="module")
def tracks_run(tmp_path_factory: pytest.TempPathFactory, files: list[Path]) -> Path:
    """A tiny midi-tracks run trained for a few steps on the multi-track test files."""
    data = tmp_path_factory.mktemp("tracks-data")
    for f in files:
        (data / f.name).write_bytes(f.read_bytes())
    run = tmp_path_factory.mktemp("tracks-runs") / "run"
    code, out = mgen("train", "--tokenizer", "midi-tracks", "--data", data, "--out", run,
                     "--max-steps", "4", *TINY)  # fmt: skip
    assert code == 0, out
    return run


@pytest.mark.parametrize("ensemble", ["violin,violin,viola,cello", "piano, 33 ,drums"])
def test_sample_writes_exactly_the_instruments_asked_for(tracks_run, tmp_path, ensemble):
    out = tmp_path / "s"
    code, output = mgen("sample", "--run", tracks_run, "-n", "80", "-k", "3", "--seed", "2",
                        "--instruments", ensemble, "--out", out)  # fmt: skip
    assert code == 0, output
    asked = gm.ensemble_of(ensemble)
    mids = sorted(out.glob("*.mid"))
    assert len(mids) == 3, output
    want = [(i.program, i.is_drum) for i in asked]
    for mid in mids:  # every track, with notes or not (a barely trained model's may have none)
        tracks = [[m for m in t if m.type == "program_change"] for t in mido.MidiFile(mid).tracks]
        assert [(p.program, p.channel == 9) for [p] in tracks] == want
        sounding = pretty_midi.PrettyMIDI(str(mid)).instruments
        assert sounding and all((t.program, t.is_drum) in want for t in sounding)


def test_sample_instruments_errors(tracks_run, tmp_path, testd_run):
    code, output = mgen("sample", "--run", tracks_run, "-n", "10", "--instruments", "violin,lute",
                        "--out", tmp_path / "a")  # fmt: skip
    assert_one_line_error(code, output, "unknown instrument 'lute'", "known: piano")
    code, output = mgen("sample", "--run", testd_run, "-n", "10", "--instruments", "violin",
                        "--out", tmp_path / "b")  # fmt: skip
    assert_one_line_error(code, output, "abc-char tokenizer does not name its instruments",
                          "midi-tracks")  # fmt: skip
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_api_and_web_take_instruments(tracks_run, tmp_path):
    result = api_root.api.sample(tracks_run, 60, 2, instruments=["cello", "cello"], seed=1,
                                 out=tmp_path / "api")  # fmt: skip
    for piece in result.pieces:
        assert piece[:3] == ["tracks_2", "inst_42", "inst_42"]
    pytest.importorskip("fastapi")
    from mgen.web.engine import Engine
    from mgen.web.limits import GenerateRequest

    req = GenerateRequest(model="x", length=60, num_samples=2, instruments="flute,drums")
    out = Engine().generate(str(tracks_run), req.model_dump(), str(tmp_path / "web"))
    for piece in out["tokens"]:
        assert piece[:3] == ["tracks_2", "inst_73", "inst_drums"]


def test_eval_and_render_read_what_it_writes(cli, files: list[Path], tmp_path: Path):
    tok = _tok()
    written = [tok.write(tok.read(f)[0], tmp_path / f.stem) for f in files[:2]]
    result = cli("render", *written, "--png", "--out", tmp_path / "r")
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "r").glob("*.png"))) == 2
    result = cli("eval", *written, "--reference", files[-1])
    assert result.exit_code == 0, result.output
