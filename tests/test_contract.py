"""The tokenizer contract: ten members on one screen, optional protocols, and the 0.1 contract
still honoured for one release (with DeprecationWarnings).

The 0.1 tokenizer below is tests/plugin_pkg's as it was in mgen 0.1, unchanged: old import
paths, `file_patterns`/`suffix`/`default_*` class attributes and its own `to_midi`.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import warnings
from collections import Counter
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from conftest import TINY

from mgen.core.contracts import cutoff, judge, loops, primer, registry, state, transpose
from mgen.core.contracts.grammar import grammar_of
from mgen.core.contracts.legacy import Format01
from mgen.core.contracts.tokenizer import Tokenizer as Base
from mgen.core.contracts.vocabulary import build_vocab, require_vocab
from mgen.formats.base import Format

REPO = Path(__file__).resolve().parents[1]
TOY_DATA = REPO / "tests" / "plugin_pkg" / "mgen_toy_plugin" / "data"

# -- a tokenizer written to the 0.1 contract (tests/plugin_pkg/.../tokenizer.py in 0.1) -------

with warnings.catch_warnings(record=True) as DEFINED:
    warnings.simplefilter("always")
    from mgen.core.errors import DataError
    from mgen.core.io import write_text
    from mgen.core.tokenizer import Tokenizer, TokenizerConfig

    @dataclasses.dataclass
    class NotesConfig(TokenizerConfig):
        tempo_bpm: float = 100.0  # for the MIDI it writes

    class NotesTokenizer(Tokenizer):
        """Toy `.notes` melodies, one token per note (from the mgen-toy-plugin package)."""

        Config = NotesConfig
        file_patterns = ("*.notes",)
        suffix = ".notes"
        default_dataset = "toy-scales"
        default_time_budget = 60.0

        def read(self, path: Path) -> list[list[str]]:
            try:
                lines = Path(path).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as e:
                raise DataError(f"cannot read {path}: {e}") from None
            pieces = [line.split() for line in lines if line.strip()]
            for piece in pieces:
                for token in piece:
                    _parse(token)  # raises DataError on a malformed token
            return pieces

        def write(self, tokens: list[str], path: Path) -> Path:
            return write_text(Path(path).with_suffix(self.suffix), " ".join(tokens) + "\n")

        def to_midi(self, tokens: list[str], path: Path) -> Path:
            import pretty_midi

            step = 60.0 / self.config.tempo_bpm / 4  # seconds per sixteenth
            inst, now = pretty_midi.Instrument(program=0), 0.0
            for pitch, steps in map(_parse, tokens):
                if pitch is not None:
                    inst.notes.append(pretty_midi.Note(90, pitch, now, now + steps * step))
                now += steps * step
            if not inst.notes:
                raise DataError("no notes to write")
            pm = pretty_midi.PrettyMIDI(initial_tempo=self.config.tempo_bpm)
            pm.instruments.append(inst)
            out = Path(path).with_suffix(".mid")
            pm.write(str(out))
            return out


def _parse(token: str) -> tuple[int | None, int]:
    pitch, _, steps = token.partition(":")
    try:
        value = None if pitch == "r" else int(pitch)
        length = int(steps)
    except ValueError:
        raise DataError(f"not a note: {token!r}") from None
    if length < 1 or (value is not None and not 0 <= value <= 127):
        raise DataError(f"not a note: {token!r}")
    return value, length


# -- the contract ------------------------------------------------------------------------------


class Minimal(Base):
    """Only what a tokenizer must have."""

    format = Format()

    def read(self, path: Path) -> list[list[str]]:
        return [Path(path).read_text().split()]

    def write(self, tokens: list[str], path: Path) -> Path:
        return write_text(Path(path).with_suffix(".txt"), " ".join(tokens))


def public_members() -> set[str]:
    """The base class's public members: class attributes, methods and what `__init__` sets."""
    return {n for n in [*dir(Base), *vars(Minimal())] if not n.startswith("_")}


def documented_members() -> list[str]:
    """The first column of the table under "### The contract" in docs/plugins.md."""
    text = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    section = text.split("### The contract", 1)[1].split("\n#", 1)[0]
    rows = [ln for ln in section.splitlines() if ln.startswith("| `")]
    return [re.match(r"\| `(\w+)", row)[1] for row in rows]


def test_the_base_tokenizer_fits_on_one_screen_and_the_docs_list_it_exactly():
    members = public_members()
    assert len(members) <= 10, sorted(members)
    assert members == {"Config", "recipe", "format", "version", "config", "vocab", "read",
                       "write", "state_dict", "from_state_dict"}  # fmt: skip
    documented = documented_members()
    assert sorted(documented) == sorted(members) and len(documented) == len(set(documented))


def test_a_tokenizer_without_protocols_gets_every_default(tmp_path):
    tok = Minimal()
    tokens = ["a", "b", "a"]
    assert judge.melody(tok, tokens) is None and judge.count_notes(tok, tokens) is None
    assert not judge.has_melody(tok) and not loops.loop_neutral(tok, "a")
    assert primer.parse_primer(tok, " a  b\n") == ["a", "b"]
    assert cutoff.cut_off(tok, tokens) == tokens
    assert transpose.shifts(tok) == (0,) and transpose.move(tok, "a", 3) == "a"
    assert state.extra_state(tok) == {}
    with pytest.raises(DataError, match="no vocabulary"):
        require_vocab(tok)
    tok.config.min_count = 2
    vocab = build_vocab(tok, Counter(tokens))
    assert vocab.tokens[4:] == ["a"] and loops.neutral_ids(tok, vocab) == []
    assert grammar_of(tok, vocab, 1) is None
    again = Minimal.from_state_dict(tok.state_dict())
    assert again.vocab.tokens == vocab.tokens and again.config.min_count == 2


def test_every_builtin_tokenizer_names_a_builtin_format():
    from mgen.core.contracts.formats import format_of

    expected = {"abc-char": ".abc", "kern": ".krn", "midi-notes": ".mid", "midi-chords": ".mid",
                "midi-tracks": ".mid"}  # fmt: skip
    for name, suffix in expected.items():
        cls = registry.load("tokenizer", name)
        assert not isinstance(cls.format, Format01) and cls.format.suffix == suffix
        assert format_of(Path(f"x{suffix}")) is cls.format
    assert format_of(Path("x.musicxml")).name == "musicxml" and format_of(Path("x.foo")) is None


def test_kern_written_by_mgen_converts_to_its_notes(tmp_path):
    """The kern format reads back what the kern tokenizer writes: tied notes joined, rests
    skipped, at the written tempo."""
    import pretty_midi

    from mgen.formats.kern.format import KERN
    from mgen.formats.kern.text import kern_text

    krn = tmp_path / "x.krn"
    krn.write_text(kern_text([(60, 20), (None, 2), (62, 2)], 0.25, 90.0))  # 5 beats: tied
    notes = pretty_midi.PrettyMIDI(str(KERN.to_midi(krn, tmp_path / "x.mid"))).instruments[0]
    beat = 60 / 90
    got = [(n.pitch, round(n.start / beat, 3), round(n.end / beat, 3)) for n in notes.notes]
    assert got == [(60, 0, 5), (62, 5.5, 6)]


# -- the 0.1 contract, honoured ----------------------------------------------------------------


def test_a_01_tokenizer_warns_and_is_read_into_the_new_contract(tmp_path):
    said = [str(w.message) for w in DEFINED if issubclass(w.category, DeprecationWarning)]
    mine = [m for m in said if m.startswith("NotesTokenizer:")]
    assert any("default_dataset, default_time_budget" in m for m in mine), said
    assert any("file_patterns, suffix, to_midi" in m and "Porting" in m for m in mine), said
    assert issubclass(NotesTokenizer, Base)
    assert NotesTokenizer.recipe.dataset == "toy-scales"
    assert NotesTokenizer.recipe.time_budget == 60.0
    fmt = NotesTokenizer.format
    assert isinstance(fmt, Format01) and fmt.patterns == ("*.notes",) and fmt.suffix == ".notes"
    pieces = NotesTokenizer().read(TOY_DATA / "scales.notes")
    assert len(pieces) == 12 and pieces[0][:2] == ["60:2", "62:2"]
    midi = fmt.to_midi(TOY_DATA / "scales.notes", tmp_path / "first.mid")  # its own to_midi
    assert midi.exists() and fmt.read_notes(midi) is None and fmt.check(midi) == []


def test_a_01_tokenizer_still_calls_the_01_base_methods():
    """`super().fit(counts)` and friends, as 0.1 plugins wrote them, still run."""

    class Fitted(NotesTokenizer):
        def fit(self, counts):
            super().fit(counts)
            self.fitted = sorted(counts)

    tok = Fitted()
    build_vocab(tok, Counter({"60:4": 3, "62:2": 1}))
    assert tok.fitted == ["60:4", "62:2"] and tok.require_vocab() is tok.vocab
    assert tok.decode(tok.encode(["62:2", "x"])) == ["62:2", "<unk>"]
    assert isinstance(Fitted.format, Format01) and Fitted.format.cls is Fitted


@pytest.fixture
def registered(monkeypatch):
    """The 0.1 tokenizer installed as the plugin `toy-01`, beside the real ones."""
    real = registry.entry_points
    mine = EntryPoint("toy-01", f"{__name__}:NotesTokenizer", "mgen.tokenizers")

    def entry_points(group):
        return [*real(group=group), *([mine] if group == "mgen.tokenizers" else [])]

    monkeypatch.setattr(registry, "entry_points", entry_points)
    registry.refresh()
    yield
    monkeypatch.undo()
    registry.refresh()


def test_a_registered_01_tokenizer_trains_samples_and_is_judged(registered, cli, tmp_path):
    import pretty_midi

    data = tmp_path / "data"
    shutil.copytree(TOY_DATA, data)
    run, out = tmp_path / "run", tmp_path / "samples"
    result = cli("train", "--tokenizer", "toy-01", "--data", data, "-T", "tempo_bpm=80",
                 "--max-steps", "3", "--out", run, *TINY[:6], "--seq-len", "16", *TINY[8:])  # fmt: skip
    assert result.exit_code == 0, result.output
    result = cli("sample", "--run", run, "-n", "30", "-k", "2", "--out", out, "--seed", "1")
    assert result.exit_code == 0, result.output
    native, midi = out / "sample-001.notes", out / "sample-001.mid"
    assert native.exists() and midi.exists()
    # The MIDI comes from the plugin's own to_midi with the run's settings (80 bpm).
    assert pretty_midi.PrettyMIDI(str(midi)).get_tempo_changes()[1][0] == pytest.approx(80)
    judged = cli("eval", native)
    assert judged.exit_code == 0, judged.output
    assert "toy-01: 1 file(s)" in judged.output
