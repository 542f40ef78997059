"""Fuzzing: every registered tokenizer's `read` survives bad input.

The property (tools.fuzz.check): `read(path)` returns pieces (lists of string tokens) or raises
the project's own `MgenError` with a one-line message; nothing else escapes. The inputs are its
own format's (tools/fuzz/inputs_*.py: generated files and named edge cases), generic ones,
and real files (its default dataset, ../shared/data) truncated, spliced and corrupted.
CI runs a few hundred derandomized examples per tokenizer; `python -m tools.fuzz --examples
10000` is the long run (docs/reliability.md).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mgen.core.contracts import registry
from mgen.core.contracts.errors import DataError, MgenError
from mgen.core.contracts.tokenizer import Tokenizer
from mgen.formats.abc.format import ABC
from mgen.formats.base import Format
from tools import fuzz
from tools.fuzz import inputs_abc, inputs_kern, inputs_midi

REPO = Path(__file__).resolve().parents[1]
TOKENIZERS = registry.names("tokenizer")
#: Generated inputs per tokenizer in CI: music21-backed readers are slower.
EXAMPLES = {"abc-char": 400, "kern": 120, "midi-notes": 250, "midi-chords": 250,
            "midi-tracks": 250, "miditok": 200}  # fmt: skip
DEFAULT_EXAMPLES = 200
#: Every named case: the generic ones and each built-in format's. Every reader gets them all
#: (a file in another format is bad input too).
NAMED = {f"generic:{k}": v for k, v in fuzz.named_cases().items()}
for _fmt, _module in (("abc", inputs_abc), ("kern", inputs_kern), ("midi", inputs_midi)):
    NAMED |= {f"{_fmt}:{k}": v for k, v in _module.named_cases().items()}


def _tokenizer(name: str) -> Tokenizer:
    return registry.load("tokenizer", name)()


@pytest.fixture(scope="module")
def real_dirs() -> list[Path]:
    """../shared/data when present (more real files to mutate); default datasets always."""
    from conftest import SHARED_DATA

    return [SHARED_DATA] if SHARED_DATA.is_dir() else []


@pytest.mark.parametrize("case", sorted(NAMED))
@pytest.mark.parametrize("name", TOKENIZERS)
def test_named_bad_inputs(name: str, case: str, tmp_path: Path) -> None:
    """Each kind of input the issue lists: zero-length, overlapping, out-of-range notes, tempo
    and time-signature changes, no notes, spine splits and joins, huge lines, ..."""
    fuzz.check(_tokenizer(name), NAMED[case], tmp_path)


@pytest.mark.parametrize("name", TOKENIZERS)
def test_generated_and_mutated_inputs(name: str, tmp_path: Path, real_dirs: list[Path]) -> None:
    tok = _tokenizer(name)
    inputs = fuzz.strategy(st, tok, fuzz.seed_inputs(tok, real_dirs))

    @settings(max_examples=EXAMPLES.get(name, DEFAULT_EXAMPLES), deadline=None,
              derandomize=True, database=None, suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(inputs)
    def read_survives(data: bytes) -> None:
        fuzz.check(tok, data, tmp_path)

    read_survives()


@pytest.mark.parametrize("name", TOKENIZERS)
def test_format_strategy_gives_bytes(name: str) -> None:
    """mgen's own tokenizers bring generated inputs for their format; any strategy a tokenizer
    gives yields file contents (bytes)."""
    strategy = fuzz.own_strategy(st, name)
    if strategy is None:
        assert registry.plugin_distribution("tokenizer", name) != registry.BUILTIN
        return

    @settings(max_examples=10, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(strategy)
    def is_bytes(data: bytes) -> None:
        assert isinstance(data, bytes)

    is_bytes()


@pytest.mark.parametrize("name", TOKENIZERS)
def test_real_files_read_cleanly(name: str, real_dirs: list[Path]) -> None:
    """The seeds themselves are good files: most must give pieces, so the mutations above
    start from input the reader really parses (not from files it rejects outright)."""
    tok = _tokenizer(name)
    files = fuzz.real_files(tok, real_dirs)
    if not files:
        pytest.skip(f"no real {name} files at hand (default dataset not ready, no ../shared/data)")
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
        format = ABC

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


FOO_SEEDS = (b"FOO1 a b c\nd e\n", b"FOO1 x y\n")


class FooFormat(Format):
    patterns = ("*.foo",)
    suffix = ".foo"


class FooTokenizer(Tokenizer):
    """A third party's format with no fuzz inputs of its own: only a changed real file breaks it."""

    format = FooFormat()

    def read(self, path: Path) -> list[list[str]]:
        data = Path(path).read_bytes()
        if not data.startswith(b"FOO1 "):
            raise DataError("not a foo file")
        if data not in FOO_SEEDS:
            raise KeyError("a changed foo file")  # the planted bug
        return [data[5:].decode("latin-1").split()]

    def write(self, tokens: list[str], path: Path) -> Path:
        raise NotImplementedError


def test_tokenizer_without_strategy_gets_generic_inputs_and_mutations(tmp_path: Path) -> None:
    """A tokenizer returning None from fuzz_strategy is still fuzzed: generic inputs pass, and
    mutations of its real files (--real, by its file patterns) find the planted bug."""
    real = tmp_path / "real"
    (real / "sub").mkdir(parents=True)
    (real / "one.foo").write_bytes(FOO_SEEDS[0])
    (real / "sub" / "two.foo").write_bytes(FOO_SEEDS[1])
    (real / "other.abc").write_bytes(b"FOO1 not mine\n")
    tok = FooTokenizer()
    assert fuzz.own_strategy(st, tok) is None
    assert sorted(f.name for f in fuzz.real_files(tok, [real])) == ["one.foo", "two.foo"]
    failures = fuzz.fuzz(tok, 100, real=[real], derandomize=True)
    assert [case for case, _ in failures] == ["generated"], failures
    assert "KeyError" in str(failures[0][1]) and failures[0][1].data.startswith(b"FOO1 ")
    assert fuzz.fuzz(tok, 30, derandomize=True) == []  # no real files: generic inputs only


def test_long_run_command_works(tmp_path: Path, capsys) -> None:
    """`python -m tools.fuzz` (what docs/reliability.md gives) on a few inputs."""
    code = fuzz.main(["--examples", "20", "-t", "abc-char", "--seed", "1",
                      "--save", str(tmp_path / "failures")])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "abc-char: ok (" in out
    assert not (tmp_path / "failures").exists()


def test_module_entry_point() -> None:
    done = subprocess.run([sys.executable, "-m", "tools.fuzz", "--help"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "--examples" in done.stdout and "--real" in done.stdout
