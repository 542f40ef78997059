"""`mgen data list` / `mgen data prepare`: the catalog of embedded datasets."""

from __future__ import annotations

from pathlib import Path

import pytest

from mgen.core.contracts import registry
from mgen.plugins.datasets import bach_midi as datasets
from mgen.plugins.datasets.bach_midi import BACH_MIDI, bach_midi_sources, dataset_dir

CATALOG = registry.names("dataset")


def table(output: str) -> dict[str, list[str]]:
    """`mgen data list` rows by dataset name: [tokenizer, format, files, prepared, ...]."""
    return {line.split()[0]: line.split()[1:] for line in output.splitlines()[1:] if line}


def test_list_shows_the_datasets(cli) -> None:
    written_before = dataset_dir(BACH_MIDI).exists()
    result = cli("data", "list")
    assert result.exit_code == 0, result.output
    rows = table(result.stdout)
    assert set(rows) == {"folk-abc", "palestrina-kern", "bach-midi", "bach-satb",
                         "string-quartets", "renaissance-voices"} == set(CATALOG)  # fmt: skip
    assert rows["bach-satb"][:2] == ["midi-tracks", "MIDI"]
    assert rows["folk-abc"][:2] == ["abc-char", "ABC"]
    assert rows["bach-midi"][:2] == ["midi-notes", "MIDI"]
    # Counting bach-midi does not write its MIDI files: it counts the scores it is made from.
    assert int(rows["bach-midi"][2]) == len(bach_midi_sources()) > 400
    assert dataset_dir(BACH_MIDI).exists() == written_before
    if not written_before:
        assert rows["bach-midi"][3] == "no"
    assert int(rows["folk-abc"][2]) > 1000


def test_prepare_unknown_name_lists_the_names(cli) -> None:
    result = cli("data", "prepare", "no-such-set")
    assert result.exit_code != 0
    [line] = result.stderr.strip().splitlines()
    assert "no-such-set" in line and all(name in line for name in CATALOG)


@pytest.mark.slow
def test_prepare_writes_lists_and_caches(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bach-midi limited to three small corpus folders: written, listed, prepared, reused."""
    monkeypatch.setenv("MGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "MIDI_COLLECTIONS", ("cpebach", "handel", "verdi"))
    assert table(cli("data", "list").stdout)["bach-midi"][2:4] == ["3", "no"]

    result = cli("data", "prepare", "bach-midi", "--quiet")
    assert result.exit_code == 0, result.output
    folder = dataset_dir(BACH_MIDI)
    assert sorted(f.name for f in folder.rglob("*.mid")) == [
        "Lascia_chio_pianga.mid",
        "h186.mid",
        "laDonnaEMobile.mid",
    ]
    assert not list(folder.rglob("*.tmp"))  # atomic writes leave no partial files
    where = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert Path(where["files"].strip()) == folder
    assert Path(where["tokens"].strip()).is_file()
    assert "3 pieces from 3 of 3 files" in result.stderr
    assert table(cli("data", "list").stdout)["bach-midi"][2:4] == ["3", "yes"]

    # An interrupted preparation (no index yet, one file missing) resumes: only that file is
    # written again, and the tokens come back from the cache.
    (folder / "index.json").unlink()
    kept = folder / "verdi" / "laDonnaEMobile.mid"
    kept_mtime = kept.stat().st_mtime_ns
    next(folder.glob("cpebach/*.mid")).unlink()
    assert table(cli("data", "list").stdout)["bach-midi"][2:4] == ["3", "no"]
    again = cli("data", "prepare", "bach-midi", "--quiet")
    assert again.exit_code == 0, again.output
    assert kept.stat().st_mtime_ns == kept_mtime and len(list(folder.rglob("*.mid"))) == 3
    assert "[already cached]" in again.stderr
