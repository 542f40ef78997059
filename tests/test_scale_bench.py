"""`mgen bench -s scale` (issue 14): the synthetic corpus, the reader comparison and the full
MIDI checks print their figures (--quick: 200 synthetic files, 8 files of each corpus)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mgen.bench.common import DEFAULT_SECTIONS, SECTIONS


def test_scale_is_a_section_but_not_a_default_one() -> None:
    assert "scale" in SECTIONS and "scale" not in DEFAULT_SECTIONS


def test_synthetic_files_read_the_same_with_both_readers(tmp_path: Path) -> None:
    from mgen.bench.synthetic import write_corpus
    from mgen.plugins.tokenizers.midi_notes import MidiNotesConfig, MidiNotesTokenizer

    files = write_corpus(tmp_path, 30, seed=1)
    assert len(files) == 30 and files[0].parent.name == "shard-000"
    fast = MidiNotesTokenizer()
    reference = MidiNotesTokenizer(MidiNotesConfig(reader="miditoolkit"))
    tempo_changes = 0
    for f in files:
        [tokens] = fast.read(f)
        assert reference.read(f) == [tokens]
        tempo_changes += len(reference.grid(f).tempo) > 1
    assert tempo_changes > 0  # some files change tempo midway
    assert np.mean([len(fast.read(f)[0]) for f in files]) > 100


@pytest.mark.slow
def test_quick_scale_section_prints_its_rows(cli, tmp_path: Path) -> None:
    from conftest import SHARED_DATA

    out = tmp_path / "bench.json"
    shared = SHARED_DATA if SHARED_DATA.is_dir() else tmp_path / "absent"
    result = cli("bench", "--quick", "-s", "scale", "--shared-data", shared, "--json", out)
    assert result.exit_code == 0, result.output
    rows = {r["item"]: r for r in json.loads(out.read_text()) if r["section"] == "scale"}
    for item in ("first parse (midi-notes, symusic)", "parse: peak RSS", "cached start",
                 "time to first training step"):  # fmt: skip
        assert f"synthetic corpus {item}" in rows or f"synthetic corpus: {item}" in rows, item
    assert (
        "4-12 tracks a song, drums in 100 songs"
        in rows["multi-track corpus: 100 songs written"]["note"]
    )
    assert rows["multi-track corpus read (read_midi, symusic)"]["value"].endswith("files/s")
    if SHARED_DATA.is_dir():
        trip = rows["piano-midi round trip (midi-notes)"]
        assert trip["value"] == "8 of 8 files", trip
        assert (
            "same tokens from both readers in 8 of 8 files"
            in rows["piano-midi first parse, symusic (midi-notes)"]["note"]
        )
