"""midi-chords (seed 004's chord tokens): real MIDI files -> tokens -> .mid, timing kept on the
grid; garbage skipped; the same tokens from symusic as from miditoolkit."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from mgen.core.contracts.errors import ConfigError, DataError
from mgen.core.contracts.tokenizer import UNK
from mgen.core.contracts.vocabulary import build_vocab
from mgen.plugins.tokenizers.midi_chords import MidiChordsConfig, MidiChordsTokenizer

SPB = 4  # the default steps_per_beat
TINY = "--tokenizer midi-chords --max-steps 3 --hidden-size 32 --quiet"  # a run in seconds


def piano_files(shared_data: Path, n: int) -> list[Path]:
    """The n smallest piano-midi.de files (quick to parse, still real pieces)."""
    files = sorted((shared_data / "piano-midi").rglob("*.mid"), key=lambda f: f.stat().st_size)
    return files[:n]


def grid_groups(pm: pretty_midi.PrettyMIDI, beat_of) -> dict[int, set[int]]:
    """Non-drum notes grouped by onset step on the grid: step -> set of pitches."""
    groups: dict[int, set[int]] = {}
    for inst in pm.instruments:
        if inst.is_drum:
            continue
        for note in inst.notes:
            groups.setdefault(int(np.rint(beat_of(note.start) * SPB)), set()).add(note.pitch)
    return groups


def check_round_trip(src: Path, tmp_path: Path) -> None:
    tok = MidiChordsTokenizer()
    [tokens] = tok.read(src)
    out = tok.write(tokens, tmp_path / "out")
    assert out.suffix == ".mid"

    # The original's onsets in beats (quarter notes), through pretty_midi's own tempo map.
    orig = pretty_midi.PrettyMIDI(str(src))
    orig_groups = grid_groups(orig, lambda t: orig.time_to_tick(t) / orig.resolution)
    # The written file has one tempo: beats = seconds * bpm / 60.
    new = pretty_midi.PrettyMIDI(str(out))
    _, [bpm] = new.get_tempo_changes()
    new_groups = grid_groups(new, lambda t: t * bpm / 60)
    assert sum(len(i.notes) for i in new.instruments) > 0

    # Same sequence of chords (as sets), each at the same grid step after the first onset.
    first = min(orig_groups)
    assert [orig_groups[s] for s in sorted(orig_groups)] == [
        new_groups[s] for s in sorted(new_groups)
    ]
    assert [s - first for s in sorted(orig_groups)] == sorted(new_groups)
    # Every original note lies within half a grid step of where its chord was written.
    written = {}  # grid step -> the written onset in beats, unrounded
    for note in new.instruments[0].notes:
        written.setdefault(int(np.rint(note.start * bpm / 60 * SPB)), note.start * bpm / 60)
    for inst in orig.instruments:
        for note in inst.notes:
            beat = orig.time_to_tick(note.start) / orig.resolution - first / SPB
            assert abs(written[int(np.rint(beat * SPB))] - beat) <= 0.5 / SPB + 1e-6


def test_round_trip_piano_midi(shared_data: Path, tmp_path: Path) -> None:
    check_round_trip(piano_files(shared_data, 20)[-1], tmp_path)


def test_round_trip_bach_chorale(chorale_midi: Path, tmp_path: Path) -> None:
    check_round_trip(chorale_midi, tmp_path)


def test_tokens_follow_the_documented_scheme(chorale_midi: Path) -> None:
    [tokens] = MidiChordsTokenizer().read(chorale_midi)
    assert tokens[0].startswith("tempo_")
    body = tokens[1:]
    # event = <pitches> d<n> then zero or more t<n>; chords are sorted and dot-joined
    kinds = "".join("p" if t[0].isdigit() else t[0] for t in body)
    assert re.fullmatch(r"pd(t+pd)*", kinds), kinds[:80]
    for tok in body:
        if tok[0].isdigit():
            pitches = [int(p) for p in tok.split(".")]
            assert pitches == sorted(set(pitches))
    assert any("." in t for t in body)  # a four-part chorale has chords


def test_long_gaps_and_durations_are_capped(tmp_path: Path) -> None:
    tok = MidiChordsTokenizer(MidiChordsConfig(max_shift_steps=4, max_duration_steps=8))
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)  # 1 beat = 0.5 s = 4 steps
    inst = pretty_midi.Instrument(0)
    inst.notes = [pretty_midi.Note(90, 60, 0.0, 10.0), pretty_midi.Note(90, 62, 5.25, 5.5)]
    pm.instruments.append(inst)
    pm.write(str(tmp_path / "two.mid"))
    [tokens] = tok.read(tmp_path / "two.mid")
    # 60 lasts 80 steps (capped to 8); the gap of 42 steps is 10 x t4 + t2.
    assert tokens == ["tempo_120", "60", "d8", *["t4"] * 10, "t2", "62", "d2"]


def test_write_skips_malformed_tokens_and_needs_notes(tmp_path: Path) -> None:
    tok = MidiChordsTokenizer()
    tokens = ["tempo_60", "<unk>", "60.64", "d8", "bogus", "t4", "d3", "999", "t4", "67", "t2"]
    pm = pretty_midi.PrettyMIDI(str(tok.write(tokens, tmp_path / "x")))
    step = 60 / 60 / SPB  # seconds per grid step at tempo 60
    notes = sorted(
        (round(n.start / step, 6), n.pitch, round((n.end - n.start) / step, 6))
        for n in pm.instruments[0].notes
    )
    # "d3" after "t4" changes the chord's duration; "999" is no pitch; 67 gets no d: one beat.
    assert notes == [(0, 60, 3), (0, 64, 3), (8, 67, SPB)]
    with pytest.raises(DataError):
        tok.write(["tempo_120", "d4", "t4", "<unk>", "x"], tmp_path / "empty")


def test_min_count_maps_rare_tokens_to_unk(shared_data: Path) -> None:
    tok = MidiChordsTokenizer(MidiChordsConfig(min_count=5))
    pieces = [p for f in piano_files(shared_data, 3) for p in tok.read(f)]
    counts = Counter(t for p in pieces for t in p)
    build_vocab(tok, counts)
    rare = [t for t, c in counts.items() if c < 5]
    common = [t for t, c in counts.items() if c >= 5]
    assert rare and common
    assert all(tok.vocab.decode(tok.vocab.encode([t])) == [UNK] for t in rare)
    assert all(tok.vocab.decode(tok.vocab.encode([t])) == [t] for t in common)
    # The median tempo of the pieces' tempo tokens is what write() uses without one.
    tempos = sorted(int(p[0].removeprefix("tempo_")) for p in pieces)
    assert tok.tempo == tempos[1]
    again = MidiChordsTokenizer.from_state_dict(tok.state_dict())
    assert again.tempo == tok.tempo and again.vocab.tokens == tok.vocab.tokens


def test_config_round_trip_and_validation() -> None:
    cfg = MidiChordsConfig(steps_per_beat=12, piano_only=True, min_count=10)
    assert MidiChordsConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError):
        MidiChordsConfig.from_dict({"steps_per_beat": 0})


def test_symusic_reads_the_tokens_miditoolkit_read(shared_data: Path, chorale_midi: Path) -> None:
    """The reader mgen replaced (miditoolkit) and symusic give the same tokens."""
    fast, reference = (
        MidiChordsTokenizer(),
        MidiChordsTokenizer(MidiChordsConfig(reader="miditoolkit")),
    )
    for f in [chorale_midi, *piano_files(shared_data, 8)]:
        assert fast.read(f) == reference.read(f), f


def test_chord_tokens_transpose() -> None:
    tok = MidiChordsTokenizer(MidiChordsConfig(transpose="-2..3"))
    assert tok.transpositions() == (-2, -1, 0, 1, 2, 3)
    assert tok.transpose("60.64.67", 2) == "62.66.69"
    assert tok.transpose("d4", 2) == "d4" and tok.transpose("126", 3) is None
    assert tok.melody(["tempo_120", "60.64.67", "d4", "t4", "62", "d2"]) == [67, 62]
