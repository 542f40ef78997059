"""The grammar hook (issue 27): each grammar accepts the real pieces of its corpus token by
token, refuses hand-made broken ones, and sampling under it writes only valid files, even from
a model that has hardly trained; a tokenizer without one samples exactly as before."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

import mgen
from mgen.core.contracts.errors import DataError
from mgen.core.contracts.grammar import HasGrammar, grammar_of
from mgen.core.contracts.vocab import Vocab
from mgen.core.sampling.engine import GrammarReport
from mgen.evaluate.report import check_file
from mgen.plugins.tokenizers.abc_char import AbcCharTokenizer
from mgen.plugins.tokenizers.kern import KernConfig, KernTokenizer
from mgen.plugins.tokenizers.midi_chords import MidiChordsTokenizer
from mgen.plugins.tokenizers.midi_notes import MidiNotesConfig, MidiNotesTokenizer

TINY = {"batch_size": 8, "seq_len": 32, "device": "cpu",
        "model_options": {"hidden_size": 16, "embed_dim": 8}}  # fmt: skip


def _fitted(tok, pieces: list[list[str]]):
    tok.vocab = Vocab.build(Counter(t for p in pieces for t in p))
    return tok


def _accepted(tok, pieces: list[list[str]]) -> None:
    assert pieces
    for piece in pieces:
        at = grammar_of(tok, tok.vocab, 1).accepts(piece)
        assert at is None, (at, piece[max(0, at - 6) : at + 2])


@pytest.fixture(scope="module")
def palestrina(music21_corpus: Path) -> list[Path]:
    return sorted((music21_corpus / "palestrina").glob("*.krn"))[:12]


KERN_SETTINGS = [{}, {"intervals": False}, {"encoding": "grid", "intervals": False},
                 {"encoding": "grid"}]  # fmt: skip


@pytest.mark.parametrize("settings", KERN_SETTINGS, ids=lambda s: str(s) or "default")
def test_kern_grammar_accepts_the_default_corpus(palestrina: list[Path], settings: dict):
    tok = KernTokenizer(KernConfig(**settings))
    pieces = [p for f in palestrina for p in tok.read(f)]
    _accepted(_fitted(tok, pieces), pieces)


def test_kern_grammar_accepts_essen(shared_data: Path):
    tok = KernTokenizer()
    pieces = []
    for f in sorted((shared_data / "essen-deutschl-kern").rglob("*.krn"))[:200]:
        try:
            pieces += tok.read(f)
        except DataError:
            continue  # a song with durations kern does not take
    _accepted(_fitted(tok, pieces), pieces)


@pytest.mark.parametrize("velocities", [0, 8])
def test_midi_notes_grammar_accepts_chorales(chorale_midi: Path, velocities: int):
    tok = MidiNotesTokenizer(MidiNotesConfig(velocities=velocities))
    files = sorted(chorale_midi.parent.glob("*.mid"))
    pieces = [p for f in files for p in tok.read(f)]
    _accepted(_fitted(tok, pieces), pieces)


@pytest.mark.parametrize("tokenizer", [MidiNotesTokenizer, MidiChordsTokenizer])
def test_midi_grammars_accept_piano_midi(shared_data: Path, tokenizer):
    tok = tokenizer()
    files = sorted((shared_data / "piano-midi").rglob("*.mid"))[::10]
    pieces = [p for f in files for p in tok.read(f)]
    _accepted(_fitted(tok, pieces), pieces)


BROKEN = [
    (MidiNotesTokenizer, ["tempo_100", "d4"], 1, "a duration with no pitch"),
    (MidiNotesTokenizer, ["tempo_100", "64", "d4", "60", "d4"], 3, "a descending chord"),
    (MidiNotesTokenizer, ["tempo_100", "64", "d4", "64", "d4"], 3, "a pitch twice at one onset"),
    (MidiNotesTokenizer, ["tempo_100", "60", "t4"], 2, "a pitch with no duration"),
    (MidiNotesTokenizer, ["tempo_100", "60", "d4", "tempo_120", "62"], 3, "a tempo mid-onset"),
    (MidiNotesTokenizer, ["tempo_100", "60"], 2, "<end> after a pitch"),
    (MidiChordsTokenizer, ["tempo_100", "60.64", "60", "d4"], 2, "two events at one onset"),
    (KernTokenizer, ["q1"], 0, "a duration with no pitch"),
    (KernTokenizer, ["60", "q1", "+2", "65", "q1"], 3, "an interval naming another pitch"),
    (KernTokenizer, ["60", "q1", "62", "q1"], 2, "a pitch without its interval"),
    (KernTokenizer, ["60", "+2", "62"], 1, "a pitch with no duration"),
    (KernTokenizer, ["60", "q1", "+2"], 3, "<end> after an interval"),
]


@pytest.mark.parametrize(("cls", "tokens", "at", "why"), BROKEN, ids=[b[3] for b in BROKEN])
def test_grammars_refuse_broken_pieces(cls, tokens: list[str], at: int, why: str):
    tok = cls()
    everything = tokens + ["60", "62", "64", "65", "q1", "+2", "+5", "d4", "t4", "tempo_120"]
    _fitted(tok, [everything])
    assert grammar_of(tok, tok.vocab, 1).accepts(tokens) == at, why


# -- sampling under the grammar ---------------------------------------------------------------


@pytest.fixture(scope="module")
def barely_trained(tmp_path_factory, palestrina: list[Path], chorale_midi: Path) -> dict:
    """Runs of one training step: their raw samples break the format, the grammar's do not."""
    root = tmp_path_factory.mktemp("grammar-runs")
    kern = root / "kern-data"
    kern.mkdir()
    for f in palestrina[:4]:
        shutil.copy(f, kern)
    return {
        "kern": mgen.train(tokenizer="kern", data=[str(kern)], max_steps=1, out=root / "kern",
                           **TINY),
        "midi-notes": mgen.train(tokenizer="midi-notes", data=[str(chorale_midi.parent)],
                                 max_steps=1, out=root / "notes", **TINY),
        "midi-chords": mgen.train(tokenizer="midi-chords", data=[str(chorale_midi.parent)],
                                  max_steps=1, out=root / "chords",
                                  tokenizer_options={"min_count": 1}, **TINY),
        "midi-tracks": mgen.train(tokenizer="midi-tracks", data=[str(chorale_midi.parent)],
                                  max_steps=1, out=root / "tracks", **TINY),
    }  # fmt: skip


@pytest.mark.parametrize("name", ["kern", "midi-notes", "midi-chords", "midi-tracks"])
def test_samples_under_the_grammar_are_valid(barely_trained: dict, name: str, tmp_path: Path):
    run = barely_trained[name]
    tok = run.tokenizer
    report = GrammarReport()
    pieces = run.sample(n=120, num_samples=8, decoder="multinomial", seed=3, report=report)
    for piece in pieces:
        assert grammar_of(tok, tok.vocab, 1).accepts(piece) is None, piece
    raw = run.sample(n=120, num_samples=8, decoder="multinomial", seed=3, grammar=False)
    broken = [p for p in raw if grammar_of(tok, tok.vocab, 1).accepts(p) is not None]
    assert broken, "an untrained model's raw samples should break the grammar somewhere"
    assert report.share() > 0  # the grammar had to refuse the model's first choice
    written = run.write(pieces, tmp_path / "s")
    native = [p for p in written.paths if p.suffix != ".mid" or tok.format.suffix == ".mid"]
    assert len(native) == 8 and not written.problems
    for path in native:
        check = check_file(path)
        assert check.valid, (path, check.errors)


class _NoHook(AbcCharTokenizer):
    """abc-char as a third-party tokenizer without the grammar hook would be."""

    grammar = None


def test_a_tokenizer_without_a_grammar_samples_as_before(tmp_path: Path, music21_corpus: Path):
    """A tokenizer without the grammar hook: grammar on or off gives the same samples."""
    run = mgen.train(tokenizer="abc-char", max_steps=2, out=tmp_path / "abc",
                     data=[str(music21_corpus / "essenFolksong" / "testd.abc")], **TINY)  # fmt: skip
    hookless = _NoHook(run.tokenizer.config)
    hookless.vocab = run.tokenizer.vocab
    run.tokenizer = hookless
    assert not isinstance(run.tokenizer, HasGrammar) and not run.has_grammar()
    for decoder in ("argmax", "temperature", "top-p"):
        on = run.sample(n=60, num_samples=3, decoder=decoder, seed=5)
        off = run.sample(n=60, num_samples=3, decoder=decoder, seed=5, grammar=False)
        assert on == off


def test_the_web_api_samples_under_the_grammar_and_says_so(barely_trained: dict):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from mgen.web.app import create_app

    root = barely_trained["kern"].path.parent
    with TestClient(create_app([root], pretrained=False), base_url="http://127.0.0.1") as c:
        body = {"model": "kern", "length": 60, "num_samples": 3, "decoder": "multinomial"}
        on = c.post("/api/generate", json=body).json()
        assert on["grammar"]["on"] is True and len(on["grammar"]["refused"]) == 3
        assert sum(on["grammar"]["refused"]) > 0  # a barely trained model needs it
        off = c.post("/api/generate", json={**body, "grammar": False}).json()
        assert off["grammar"]["on"] is False
        tok = barely_trained["kern"].tokenizer
        for sample in on["samples"]:
            tokens = c.get(f"/api/batches/{on['id']}/samples/{sample['index']}/native")
            assert tokens.status_code == 200
        assert all(grammar_of(tok, tok.vocab, 1).accepts(p) is None for p in _batch_tokens(on))


def _batch_tokens(batch: dict) -> list[list[str]]:
    """The batch's samples as tokens: each sample's `primer` field is its own tokens as text."""
    return [s["primer"].split() for s in batch["samples"]]


def test_sample_says_whether_the_grammar_was_used(cli, barely_trained: dict, tmp_path: Path):
    run = barely_trained["kern"].path
    result = cli("sample", "--run", run, "-n", "40", "-k", "2", "--out", tmp_path / "on")
    assert result.exit_code == 0 and "grammar: on (kern)" in result.output
    result = cli("sample", "--run", run, "-n", "40", "-k", "2", "--out", tmp_path / "off",
                 "--no-grammar")  # fmt: skip
    assert result.exit_code == 0 and "grammar: off" in result.output


@pytest.mark.parametrize("name", ["bach-midi", "bach-satb", "palestrina-kern", "folk-abc"])
def test_a_fixed_seed_batch_of_each_shipped_model_is_valid(name: str, tmp_path: Path):
    """The shipped models: a batch under the grammar is all valid by the strict check and
    follows the grammar to its end."""
    run = mgen.load_run(name)
    tok = run.tokenizer
    pieces = run.sample(n=300, num_samples=8, decoder="temperature", seed=11)
    assert all(grammar_of(tok, tok.vocab, 1).accepts(p) is None for p in pieces)
    written = run.write(pieces, tmp_path / "s")
    native = [p for p in written.paths if p.suffix == tok.format.suffix]
    assert len(native) == 8 and not written.problems
    assert all(check_file(p).valid for p in native)
