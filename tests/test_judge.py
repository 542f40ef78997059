"""The judge on known cases: copies found with their source, invalid files each for its reason,
real pieces valid, a classifier that cannot be fooled, samples beside the corpus on every row."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY, write_midi
from typer.testing import CliRunner

from mgen.cli.app import app
from mgen.evaluate import classify
from mgen.evaluate.notes import evenly, read_pieces
from mgen.evaluate.validity import judge
from mgen.formats.abc.music import melody
from mgen.formats.abc.notes import abc_tunes, read_text
from mgen.formats.score import make_piece
from mgen.plugins.tokenizers.abc_char import AbcCharTokenizer

_LETTERS = "CDEFGAB"
_UP_A_TONE = {"C": "D", "G": "A", "D": "E", "F": "G", "A": "B", "E": "F#", "Bb": "C"}


def _up_a_step(body: str) -> str:
    """Every note one letter higher (with K: a tone higher, an exact transposition)."""

    def shift(m: re.Match) -> str:
        letter, marks = m[1], m[2]
        octave = (4 if letter.isupper() else 5) + marks.count("'") - marks.count(",")
        d = _LETTERS.index(letter.upper()) + 7 * octave + 1
        octave, name = divmod(d, 7)
        if octave >= 5:
            return _LETTERS[name].lower() + "'" * (octave - 5)
        return _LETTERS[name] + "," * (4 - octave)

    return re.sub(r"([A-Ga-g])([,']*)", shift, body)


@pytest.fixture(scope="module")
def run(tmp_path_factory, music21_corpus: Path) -> dict:
    """A 5-step run on 107 German ballads, and a plain training tune (no accidentals, no
    chord symbols) with its name in the run's split."""
    import shutil

    from mgen.core.data.prepare import run_split
    from mgen.core.runs.rundir import load_tokenizer, read_config
    from mgen.evaluate.copies import piece_names

    root = tmp_path_factory.mktemp("judge")
    train = root / "train"
    train.mkdir()
    shutil.copy(music21_corpus / "essenFolksong" / "ballad10.abc", train)
    result = CliRunner().invoke(
        app, ["train", "--data", str(train), "--out", str(root / "run"), "--max-steps", "5", *TINY]
    )
    assert result.exit_code == 0, result.output
    _, tok = load_tokenizer(root / "run")
    split = run_split(read_config(root / "run"), tok, log=lambda _: None)
    names = piece_names(split.corpus)
    for i in map(int, split.train):
        text = "".join(split.corpus.piece(i))
        header, _, body = text.partition("\nK:")
        key, _, body = body.partition("\n")
        if key.strip() in _UP_A_TONE and re.fullmatch(r"[A-Ga-gz0-9/ |\n]+", body) and len(melody(text)) > 30:  # fmt: skip
            return {"run": root / "run", "root": root, "tokens": split.corpus.piece(i),
                    "name": names[i], "header": header, "key": key.strip(), "body": body}  # fmt: skip
    raise AssertionError("no plain training tune")


def test_copies_of_a_training_tune_are_found_with_their_source(run, tmp_path):
    samples = tmp_path / "samples"
    samples.mkdir()
    tok = AbcCharTokenizer()
    tok.write(run["tokens"], samples / "verbatim.abc")
    up = _UP_A_TONE[run["key"]]
    (samples / "transposed.abc").write_text(f"X:1\n{run['header']}\nK:{up}\n{_up_a_step(run['body'])}")  # fmt: skip
    tune = melody("".join(run["tokens"]))
    write_midi(samples / "fifth-up.mid", np.asarray(tune) + 7)  # another format, other pitches
    out = tmp_path / "eval.json"
    result = CliRunner().invoke(app, ["eval", "--run", str(run["run"]), str(samples), "--json", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    found = {
        Path(p["piece"]).name: (p["notes"], p["source"])
        for fmt in report["formats"].values()
        for p in fmt["novelty"]["pieces"]
    }
    whole = (len(tune), run["name"])
    assert found == {"verbatim.abc": whole, "transposed.abc": whole, "fifth-up.mid": whole}
    assert melody((samples / "transposed.abc").read_text()) == [p + 2 for p in tune]
    assert report["copy_index"]["melodies_from"] == "the tokenizer's melody hook"
    assert "copied from " + run["name"] in result.stdout


def _tune(body: str, meter: str = "3/4") -> str:
    return f"X:1\nT:test\nM:{meter}\nL:1/8\nK:G\n{body}\n"


WALTZ = "D2|G2B2d2|g4f2|e2d2c2|B4A2|G2B2d2|g4f2|e2c2A2|G4|]"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("garbage.abc", None, "not ABC music: '##@@'"),
        (
            "half.abc",
            _tune(WALTZ[: len(WALTZ) // 2]),
            "ends without a final bar line, in the middle of a bar",
        ),  # fmt: skip
        (
            "nine-eight.abc",
            _tune(WALTZ.replace("e2d2c2", "e2d2c2B2A")),
            "lasts 9/8, the meter 3/4",
        ),  # fmt: skip
        (
            "fields.krn",
            "**kern\t**kern\n*M3/4\t*M3/4\n4c\t4e\n4d\n=\t=\n*-\t*-\n",
            "1 fields, 2 spines open",
        ),  # fmt: skip
        ("notes.krn", "**kern\n*M3/4\n4c\n4x\n*-\n", "'4x' is not a **kern note"),
        ("truncated.mid", None, "truncated"),
    ],
)
def test_broken_files_are_invalid_for_the_stated_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    if name == "garbage.abc":  # what abc-char writes for these tokens: X:1, L: and K: added
        AbcCharTokenizer().write(list("qqq##@@ !!!! xyz a"), path)
    elif name == "truncated.mid":
        data = write_midi(tmp_path / "whole.mid", range(60, 90)).read_bytes()
        path.write_bytes(data[: len(data) * 2 // 3])
    else:
        path.write_text(content)
    from mgen.evaluate.report import check_file

    check = check_file(path)
    assert not check.valid
    assert any(reason in e for e in check.errors), check.errors


def test_the_whole_waltz_is_valid_and_every_check_is_named(tmp_path):
    from mgen.evaluate.report import check_file

    (tmp_path / "waltz.abc").write_text(_tune(WALTZ))
    check = check_file(tmp_path / "waltz.abc")
    assert check.valid, check.errors
    assert any(c.startswith("strict ABC") for c in check.checks)
    assert any(c.startswith("abc2midi") for c in check.checks)  # ran, or said it was skipped
    write_midi(tmp_path / "a.mid", [60, 62, 64])
    midi = check_file(tmp_path / "a.mid")
    assert midi.valid and {"mido", "pretty_midi (its notes)"} <= set(midi.checks)


def test_real_corpus_pieces_are_valid(music21_corpus):
    """Every check on **kern voices; on O'Neill's tunes every check but bar lengths (the
    collection's own transcription slips: docs/evaluation.md counts them)."""
    kern = sorted((music21_corpus / "palestrina").glob("*.krn"))
    verdicts = [judge(f, "kern").units[0] for f in evenly(kern, 60)]
    assert sum(not u.errors for u in verdicts) / len(verdicts) >= 0.99
    tunes = []
    for f in sorted((music21_corpus / "oneills1850").glob("*.abc"))[:6]:
        for u in judge(f, "abc", limit=15).units:
            tunes.append([e for e in u.errors if not e.startswith("bar ")])
    assert len(tunes) >= 60 and sum(not e for e in tunes) / len(tunes) >= 0.99


def test_real_midi_is_valid(shared_data):
    files = evenly(sorted((shared_data / "piano-midi").rglob("*.mid")), 30)
    units = [judge(f, "midi").units[0] for f in files]
    assert all(not u.errors for u in units), [u.errors for u in units if u.errors]


def test_abc_pitches_follow_key_accidentals_octaves_chords_and_ties():
    text = "X:1\nK:D\nF ^G G | G c' C, | [CEg]2 A-A A | =f f|f\nK:Bb\nB e\n"
    assert melody(text) == [66, 68, 68, 67, 85, 49, 79, 69, 69, 77, 77, 78, 70, 75]


def _pieces(music21_corpus: Path, name: str, n: int):
    return read_pieces(music21_corpus / "essenFolksong" / name, n)[0]


def test_classifier_cannot_tell_corpus_from_corpus_but_spots_random_notes(music21_corpus):
    real = _pieces(music21_corpus, "kinder0.abc", 120)
    same = classify.distinguish(real[0::2], real[1::2])
    assert 0.3 <= same["accuracy"] <= 0.65 and same["ci95"][0] <= 0.5 <= same["ci95"][1] + 0.05
    rng = np.random.default_rng(0)
    noise = [
        make_piece(
            f"r{i}", [(int(p), j / 2, 0.5) for j, p in enumerate(rng.integers(55, 80, 50))], 2.0
        )  # fmt: skip
        for i in range(60)
    ]
    spotted = classify.distinguish(noise, real)
    assert spotted["accuracy"] >= 0.95 and spotted["p_value"] < 1e-6
    assert spotted["giveaways"] and {"feature", "samples_mean", "corpus_mean"} <= set(spotted["giveaways"][0])  # fmt: skip


def test_html_page_is_self_contained(tmp_path, music21_corpus):
    samples = tmp_path / "s"
    samples.mkdir()
    for i, tune in enumerate(abc_tunes(read_text(music21_corpus / "essenFolksong" / "erk5.abc"))[:3]):  # fmt: skip
        (samples / f"t{i}.abc").write_text(tune)
    ref = music21_corpus / "essenFolksong" / "kinder0.abc"
    page = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["eval", str(samples), "-r", str(ref), "--reference-limit", "20", "--html", str(page)])  # fmt: skip
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert html.count("data:image/png;base64,") == 2  # histograms, piano rolls
    assert "<table>" in html and "corpus" in html and "http" not in html.replace("https://", "")


@pytest.mark.slow
def test_sample_eval_prints_samples_beside_the_corpus_on_every_row(run, cli, tmp_path):
    result = cli("sample", "--run", run["run"], "-n", "200", "-k", "6", "--out", tmp_path / "s",
                 "--device", "cpu", "--eval")  # fmt: skip
    assert result.exit_code == 0, result.output
    block = result.stdout.split("abc-char:")[1].split("\n\n")[0]
    lines = block.splitlines()
    assert lines[2].split() == ["samples", "corpus"]
    table = [ln for ln in lines[3:] if not ln.startswith("    ")]
    assert len(table) >= 18  # every figure: validity, statistics, divergences, form, copies, ...
    for row in table:
        corpus = re.split(r"\s{2,}", row.strip())[-1]
        assert corpus != "-" and len(re.split(r"\s{2,}", row.strip())) == 3, row
    assert "classifier accuracy" in block and "copied (>= 16 notes verbatim)" in block
