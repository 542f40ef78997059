"""midi-notes: note-level tokens; read -> write -> read gives the same tokens and every quantized
note of the original; re-struck notes never overlap; tempo changes kept; symusic reads what
miditoolkit read; garbage skipped; a trained lstm2's argmax sample has no overlapping notes."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import miditoolkit
import numpy as np
import pretty_midi
import pytest

from mgen.core.contracts.errors import ConfigError, DataError
from mgen.plugins.tokenizers.midi_grid import bin_velocity, velocity_bin
from mgen.plugins.tokenizers.midi_notes import MidiNotesConfig, MidiNotesTokenizer

SPB = 4  # the default steps_per_beat
TINY = "--tokenizer midi-notes --max-steps 3 --hidden-size 32 --quiet"  # a run in seconds


def piano_files(shared_data: Path, n: int) -> list[Path]:
    """The n smallest piano-midi.de files (quick to parse, still real pieces)."""
    files = sorted((shared_data / "piano-midi").rglob("*.mid"), key=lambda f: f.stat().st_size)
    return files[:n]


def piano_subset(shared_data: Path) -> list[Path]:
    """Ten piano-midi.de files spread over sizes (the bench checks all 295)."""
    files = sorted((shared_data / "piano-midi").rglob("*.[mM][iI][dD]"))
    return files[:: len(files) // 10][:10]


def write_notes(path: Path, notes, tempos=((0, 120.0),), tpq: int = 480) -> Path:
    """A one-track file of (start tick, end tick, pitch, velocity) notes."""
    midi = miditoolkit.MidiFile(ticks_per_beat=tpq)
    inst = miditoolkit.Instrument(program=0)
    inst.notes = [miditoolkit.Note(v, p, s, e) for s, e, p, v in notes]
    midi.instruments.append(inst)
    midi.tempo_changes = [miditoolkit.TempoChange(bpm, t) for t, bpm in tempos]
    midi.dump(str(path))
    return path


def check_round_trip(tok: MidiNotesTokenizer, src: Path, tmp_path: Path) -> None:
    """read -> write -> read: the same tokens, every quantized note and the tempo marks."""
    [tokens] = tok.read(src)
    out = tok.write(tokens, tmp_path / src.stem)
    assert tok.read(out) == [tokens], src
    original, written = tok.grid(src), tok.grid(out)
    assert original.notes() == written.notes() and len(original) == len(written), src
    assert original.tempo == written.tempo, src


def assert_no_overlaps(path: Path) -> None:
    """No two notes of one pitch sound at once in the file."""
    notes = [n for inst in pretty_midi.PrettyMIDI(str(path)).instruments for n in inst.notes]
    by_pitch: dict[int, list] = {}
    for n in notes:
        by_pitch.setdefault(n.pitch, []).append((n.start, n.end))
    for spans in by_pitch.values():
        spans.sort()
        assert all(a[1] <= b[0] + 1e-9 for a, b in zip(spans, spans[1:], strict=False)), spans


def test_round_trip_piano_midi_subset(shared_data: Path, tmp_path: Path) -> None:
    tok = MidiNotesTokenizer()
    for f in piano_subset(shared_data):
        check_round_trip(tok, f, tmp_path)


def test_round_trip_bach_chorale_with_velocities(chorale_midi: Path, tmp_path: Path) -> None:
    check_round_trip(MidiNotesTokenizer(), chorale_midi, tmp_path)
    check_round_trip(MidiNotesTokenizer(MidiNotesConfig(velocities=8)), chorale_midi, tmp_path)


def test_round_trip_with_velocity_bins(shared_data: Path, tmp_path: Path) -> None:
    tok = MidiNotesTokenizer(MidiNotesConfig(velocities=16))
    f = piano_files(shared_data, 5)[-1]
    check_round_trip(tok, f, tmp_path)
    [tokens] = tok.read(f)
    assert len({t for t in tokens if t.startswith("v")}) > 3


def test_symusic_reads_the_tokens_miditoolkit_read(shared_data: Path, chorale_midi: Path) -> None:
    fast = MidiNotesTokenizer(MidiNotesConfig(velocities=8))
    reference = MidiNotesTokenizer(MidiNotesConfig(velocities=8, reader="miditoolkit"))
    for f in [chorale_midi, *piano_subset(shared_data)]:
        assert fast.read(f) == reference.read(f), f


def test_tokens_follow_the_documented_scheme(chorale_midi: Path) -> None:
    [tokens] = MidiNotesTokenizer().read(chorale_midi)
    assert tokens[0].startswith("tempo_")
    kinds = "".join("p" if t.isdigit() else "T" if t.startswith("tempo_") else t[0] for t in tokens)
    # tempo, notes (pitch, duration), then per onset: shifts, maybe a tempo, notes
    assert re.fullmatch(r"T(pd)+(t+T?(pd)+)*", kinds), kinds[:80]
    pitches: list[int] = []
    for tok in tokens[1:] + ["t1"]:  # pitches of one onset ascend, none twice
        if tok.isdigit():
            assert not pitches or int(tok) > pitches[-1]
            pitches.append(int(tok))
        elif tok.startswith("t"):
            pitches = []
    assert len(set(tokens) - set(MidiNotesTokenizer().table)) == 0  # the closed vocabulary


def test_chords_durations_and_restrikes(tmp_path: Path) -> None:
    """Each note of a chord keeps its own length; a re-struck held note ends at the re-strike."""
    beat = 480
    notes = [
        (0, 4 * beat, 60, 80),  # held, but struck again after 1 beat (and released twice)
        (0, beat // 2, 64, 80),  # an eighth
        (0, 2 * beat, 67, 80),  # a half
        (beat, 2 * beat, 60, 80),  # the re-strike: a reader pairs the offs first in, first out
        (beat + 3, 2 * beat, 72, 90),  # 3 ticks late: still the same onset step
    ]
    src = write_notes(tmp_path / "chord.mid", notes)
    tok = MidiNotesTokenizer()
    [tokens] = tok.read(src)
    # the first 60 ends at the re-strike (d4); the second lasts until the last release (d12)
    assert tokens == [
        "tempo_120",
        "60",
        "d4",
        "64",
        "d2",
        "67",
        "d8",
        "t4",
        "60",
        "d12",
        "72",
        "d4",
    ]
    out = tok.write(tokens, tmp_path / "out")
    assert_no_overlaps(out)
    assert tok.read(out) == [tokens]


def test_tempo_changes_are_kept(tmp_path: Path) -> None:
    beat = 480
    notes = [(i * beat, (i + 1) * beat, 60 + i, 80) for i in range(8)]
    # 100 bpm with a little rubato (no token), then 60 bpm from beat 4 (a token)
    tempos = [(0, 100.0), (beat, 104.0), (2 * beat, 97.0), (4 * beat, 60.0), (6 * beat, 62.0)]
    src = write_notes(tmp_path / "tempo.mid", notes, tempos)
    tok = MidiNotesTokenizer()
    [tokens] = tok.read(src)
    assert tokens[0] == "tempo_100" and tokens.count("tempo_60") == 1
    assert tokens[tokens.index("tempo_60") + 1] == "64"  # marked where the tempo changed
    out = tok.write(tokens, tmp_path / "out")
    assert tok.read(out) == [tokens]
    times, bpm = pretty_midi.PrettyMIDI(str(out)).get_tempo_changes()
    assert np.allclose(bpm, [100, 60], atol=0.01)
    assert MidiNotesTokenizer(MidiNotesConfig(tempo_change=1.0)).read(src)[0].count("tempo_60") == 0


def test_long_gaps_and_durations_are_capped(tmp_path: Path) -> None:
    tok = MidiNotesTokenizer(MidiNotesConfig(max_shift_steps=4, max_duration_steps=8))
    beat = 480  # 4 steps
    src = write_notes(tmp_path / "two.mid", [(0, 20 * beat, 60, 90), (42 * 120, 44 * 120, 62, 90)])
    # 60 lasts 80 steps (capped to 8); the gap of 42 steps is 10 x t4 + t2.
    assert tok.read(src)[0] == ["tempo_120", "60", "d8", *["t4"] * 10, "t2", "62", "d2"]


def test_write_is_lenient_and_needs_notes(tmp_path: Path) -> None:
    tok = MidiNotesTokenizer()
    tokens = ["tempo_60", "<unk>", "60", "d8", "64", "bogus", "t4", "d3", "999", "t4", "67"]
    out = tok.write(tokens, tmp_path / "x")
    midi = miditoolkit.MidiFile(str(out))
    k = midi.ticks_per_beat // SPB
    notes = sorted(
        (n.start // k, n.pitch, (n.end - n.start) // k) for n in midi.instruments[0].notes
    )
    # "d3" after "t4" sets 64's length; 60 is cut by nothing; 67 (no d) gets one beat
    assert notes == [(0, 60, 8), (0, 64, 3), (8, 67, SPB)]
    assert midi.tempo_changes[0].tempo == pytest.approx(60)
    with pytest.raises(DataError):
        tok.write(["tempo_120", "d4", "t4", "<unk>", "x"], tmp_path / "empty")


def test_generated_overlaps_are_resolved(tmp_path: Path) -> None:
    """A sampled piece may strike a pitch that is still held: the held note ends there."""
    tok = MidiNotesTokenizer()
    out = tok.write(["60", "d16", "60", "d2", "t2", "60", "d8", "t1", "60", "d1"], tmp_path / "o")
    assert_no_overlaps(out)
    [tokens] = tok.read(out)
    assert tokens == ["tempo_120", "60", "d2", "t2", "60", "d1", "t1", "60", "d1"]


def test_velocity_bins_round_trip() -> None:
    for bins in range(1, 33):
        values = [bin_velocity(b, bins) for b in range(bins)]
        assert velocity_bin(np.asarray(values), bins).tolist() == list(range(bins))
        assert all(1 <= v <= 127 for v in values)
        assert velocity_bin(np.arange(1, 128), bins).max() == bins - 1


def test_vocabulary_is_closed_and_fit_sets_the_tempo(shared_data: Path) -> None:
    tok = MidiNotesTokenizer()
    pieces = [p for f in piano_files(shared_data, 3) for p in tok.read(f)]
    tok.fit(Counter(t for p in pieces for t in p))
    assert len(tok.vocab) == 4 + 128 + 32 + 16 + 29  # specials, pitches, d, t, tempos
    assert all(t in tok.vocab for p in pieces for t in p)
    tempos = sorted(int(t[6:]) for p in pieces for t in p if t.startswith("tempo_"))
    assert tok.tempo == tempos[(len(tempos) - 1) // 2]
    again = MidiNotesTokenizer.from_state_dict(tok.state_dict())
    assert again.tempo == tok.tempo and again.vocab.tokens == tok.vocab.tokens
    with_v = MidiNotesTokenizer(MidiNotesConfig(velocities=8))
    with_v.fit(Counter())
    assert len(with_v.vocab) == len(tok.vocab) + 8


def test_hooks_count_notes_melody_transpose() -> None:
    tok = MidiNotesTokenizer(MidiNotesConfig(transpose="-5..6"))
    tokens = ["tempo_120", "60", "d4", "64", "d4", "t4", "62", "d2", "t16", "t2", "59", "d1"]
    assert tok.count_notes(tokens) == 4
    assert tok.melody(tokens) == [64, 62, 59]
    assert tok.transpositions() == tuple(range(-5, 7))
    assert tok.transpose("60", -5) == "55" and tok.transpose("t4", 3) == "t4"
    assert tok.transpose("125", 6) is None
    assert tok.loop_neutral("t16") and not tok.loop_neutral("t4")


def test_config_round_trip_and_validation() -> None:
    cfg = MidiNotesConfig(steps_per_beat=12, piano_only=True, velocities=8, transpose=5)
    assert MidiNotesConfig.from_dict(cfg.to_dict()) == cfg
    for bad in ({"steps_per_beat": 0}, {"velocities": 200}, {"transpose": "6..-5"},
                {"transpose": "up"}, {"reader": "mido"}, {"tempo_change": -1.0}):  # fmt: skip
        with pytest.raises(ConfigError):
            MidiNotesConfig.from_dict(bad)


def test_eval_and_render_take_both_tokenizers_output(cli, chorale_midi: Path, tmp_path: Path):
    """`mgen eval` and `mgen render` read what midi-notes and midi-chords write."""
    from mgen.plugins.tokenizers.midi_chords import MidiChordsTokenizer

    written = []
    for tok in (MidiNotesTokenizer(), MidiChordsTokenizer()):
        [tokens] = tok.read(chorale_midi)
        written.append(tok.write(tokens, tmp_path / type(tok).__name__))
    result = cli("render", *written, "--png", "--musicxml", "--out", tmp_path / "r")
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "r").glob("*.png"))) == 2
    result = cli("eval", *written, "--reference", chorale_midi, "--json", tmp_path / "e.json")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "e.json").read_text())
    assert (report["formats"]["midi"]["valid"], report["formats"]["midi"]["files"]) == (2, 2)
