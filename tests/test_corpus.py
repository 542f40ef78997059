"""The corpus cache: compact, memory-mapped, and keyed by the files' contents."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from mgen.core.contracts import registry
from mgen.core.data.corpus import load_corpus


def test_cached_corpus_is_compact_memory_mapped_and_follows_edits(
    abc_folder: Path, tmp_path, monkeypatch
):
    monkeypatch.setenv("MGEN_CACHE_DIR", str(tmp_path / "cache"))  # other tests read this file
    tok = registry.load("tokenizer", "abc-char")()
    files = sorted(abc_folder.glob("*.abc"))
    first = load_corpus(tok, files, progress=False)
    again = load_corpus(tok, files, progress=False)
    assert not first.from_cache and again.from_cache
    assert again.ids.dtype == np.uint16 and isinstance(again.ids, np.memmap)
    assert again.tokens == first.tokens and np.array_equal(again.ids, first.ids)
    # A copy with one tune removed: different contents, so a fresh parse.
    edited = tmp_path / "edited"
    edited.mkdir()
    text = files[0].read_text(encoding="latin-1")
    (edited / files[0].name).write_text(text[: text.rindex("\nX:")], encoding="latin-1")
    changed = load_corpus(tok, [edited / files[0].name], progress=False)
    assert not changed.from_cache and len(changed) == len(first) - 1
    # Editing that file in place (same path) is noticed too.
    shutil.copy(files[0], edited / files[0].name)
    restored = load_corpus(tok, [edited / files[0].name], progress=False)
    assert len(restored) == len(first) and np.array_equal(restored.ids, first.ids)


def test_a_copy_of_cached_files_is_named_by_its_own_paths(abc_folder: Path, tmp_path, monkeypatch):
    """The cache is keyed by contents: a copy of the same files elsewhere loads the cached
    pieces, named by the copy's paths (controls read a piece's collection from its folder)."""
    monkeypatch.setenv("MGEN_CACHE_DIR", str(tmp_path / "cache"))
    tok = registry.load("tokenizer", "abc-char")()
    files = sorted(abc_folder.glob("*.abc"))
    load_corpus(tok, files, progress=False)
    copy = tmp_path / "essen"
    copy.mkdir()
    for f in files:
        shutil.copy(f, copy / f.name)
    again = load_corpus(tok, [copy / f.name for f in files], progress=False)
    assert again.from_cache and again.files == [str(copy / f.name) for f in files]


def test_a_corpus_with_skipped_files_is_read_from_the_cache(
    abc_folder: Path, tmp_path, monkeypatch
):
    """A file the tokenizer skips (here one with no tune) does not cost every later run a full
    parse: the cached corpus stands for the same files, skipped ones included."""
    monkeypatch.setenv("MGEN_CACHE_DIR", str(tmp_path / "cache"))
    tok = registry.load("tokenizer", "abc-char")()
    empty = tmp_path / "empty.abc"
    empty.write_text("% no tune here\n")
    files = sorted([*abc_folder.glob("*.abc"), empty])
    first = load_corpus(tok, files, progress=False, warn=lambda _: None)
    again = load_corpus(tok, files, progress=False, warn=lambda _: None)
    assert [p for p, _ in first.skipped] == [str(empty)] and not first.from_cache
    assert again.from_cache and again.files == first.files and again.skipped == first.skipped
