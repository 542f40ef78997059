"""Fuzzing: every registered tokenizer's `read` survives bad input.

The property (mgen.fuzz.check): `read(path)` returns pieces (lists of string tokens) or raises
the project's own `MgenError` with a one-line message; nothing else escapes. Strategies are
per format (ABC, **kern, MIDI, by the tokenizer's file patterns) plus generic ones, and real
files are truncated, spliced and corrupted. CI runs a few hundred derandomized examples per
tokenizer; `python -m mgen.fuzz --examples 10000` is the long run (docs/reliability.md).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from mgen import fuzz
from mgen.core import registry
from mgen.core.errors import MgenError

TOKENIZERS = registry.names("tokenizer")
#: Generated inputs per tokenizer in CI, by format: music21-backed readers are slower.
EXAMPLES = {"abc": 400, "kern": 120, "midi": 250, "text": 200}


def _tokenizer(name: str):
    return registry.load("tokenizer", name)()


def _cases() -> list[tuple[str, str]]:
    return [
        (name, case)
        for name in TOKENIZERS
        for case in fuzz.named_cases(fuzz.format_of(_tokenizer(name)))
    ]


@pytest.fixture(scope="module")
def real_dirs() -> list[Path]:
    """../shared/data when present (more real files to mutate); music21's corpus always."""
    from conftest import SHARED_DATA

    return [SHARED_DATA] if SHARED_DATA.is_dir() else []


@pytest.mark.parametrize(("name", "case"), _cases())
def test_named_bad_inputs(name: str, case: str, tmp_path: Path) -> None:
    """Each kind of input the issue lists: zero-length, overlapping, out-of-range notes, tempo
    and time-signature changes, no notes, spine splits and joins, huge lines, ..."""
    tok = _tokenizer(name)
    fuzz.check(tok, fuzz.named_cases(fuzz.format_of(tok))[case], tmp_path)


@pytest.mark.parametrize("name", TOKENIZERS)
def test_generated_and_mutated_inputs(name: str, tmp_path: Path, real_dirs: list[Path]) -> None:
    tok = _tokenizer(name)
    fmt = fuzz.format_of(tok)
    inputs = fuzz.strategy(fmt, fuzz.seed_inputs(fmt, real_dirs))

    @settings(max_examples=EXAMPLES[fmt], deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(inputs)
    def read_survives(data: bytes) -> None:
        fuzz.check(tok, data, tmp_path)

    read_survives()


@pytest.mark.parametrize("name", TOKENIZERS)
def test_real_files_read_cleanly(name: str, real_dirs: list[Path]) -> None:
    """The seeds themselves are good files: most must give pieces, so the mutations above
    start from input the reader really parses (not from files it rejects outright)."""
    tok = _tokenizer(name)
    files = fuzz.real_files(fuzz.format_of(tok), real_dirs)
    if not files:
        pytest.skip(f"no real {fuzz.format_of(tok)} files at hand")
    good = 0
    for f in files:
        with contextlib.suppress(MgenError):
            good += bool(tok.read(f))
    assert good >= 1, f"{name}: none of {[f.name for f in files]} could be read"


@pytest.mark.parametrize("name", TOKENIZERS)
def test_missing_file_and_folder_are_data_errors(name: str, tmp_path: Path) -> None:
    tok = _tokenizer(name)
    for path in (tmp_path / f"missing{fuzz.input_suffix(tok)}", tmp_path):
        with pytest.raises(MgenError) as info:
            tok.read(path)
        assert "\n" not in str(info.value) and str(info.value).strip()


def test_the_property_can_fail(tmp_path: Path) -> None:
    """check() really catches a foreign exception, a bad message and a malformed result."""

    class Broken:
        file_patterns = ("*.abc",)
        suffix = ".abc"

        def __init__(self, outcome):
            self.outcome = outcome

        def read(self, path):
            if isinstance(self.outcome, BaseException):
                raise self.outcome
            return self.outcome

    for outcome in (KeyError("x"), MgenError("two\nlines"), MgenError(""), [["a", 1]], "ab"):
        with pytest.raises(fuzz.FuzzFailure):
            fuzz.check(Broken(outcome), b"X:1\n", tmp_path)
    fuzz.check(Broken([["a", "b"]]), b"X:1\n", tmp_path)
    fuzz.check(Broken(MgenError("one clear line")), b"X:1\n", tmp_path)


def test_long_run_command_works(tmp_path: Path, capsys) -> None:
    """`python -m mgen.fuzz` (what docs/reliability.md gives) on a few inputs."""
    code = fuzz.main(["--examples", "20", "-t", "abc-char", "--seed", "1",
                      "--save", str(tmp_path / "failures")])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "abc-char: ok (" in out
    assert not (tmp_path / "failures").exists()
