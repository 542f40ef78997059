"""Attribute controls (docs/control.md): attributes read from real corpus files, training with
them left out at random, sampling that asks for some, and one clear refusal for the rest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import TINY, assert_one_line_error, mgen

from mgen.core.contracts import controls
from mgen.core.data.controls import piece_attributes
from mgen.formats.keys import estimate_key, move_key, normal_key

TOKENIZERS = ["abc-char", "kern", "midi-notes", "midi-chords", "midi-tracks"]


@pytest.fixture(scope="module")
def corpora(tmp_path_factory, music21_corpus: Path, chorale_midi: Path) -> dict[str, Path]:
    """A small real corpus per format: Essen tunes, a Palestrina movement, two chorales."""
    root = tmp_path_factory.mktemp("corpora")
    (root / "essen").mkdir()
    shutil.copy(music21_corpus / "essenFolksong" / "testd.abc", root / "essen")
    (root / "palestrina").mkdir()
    shutil.copy(music21_corpus / "palestrina" / "Agnus_01.krn", root / "palestrina")
    midi = chorale_midi.parent
    return {"abc-char": root / "essen", "kern": root / "palestrina", "midi-notes": midi,
            "midi-chords": midi, "midi-tracks": midi}  # fmt: skip


def _tokenizer(name: str):
    from mgen.core.data.prepare import build_tokenizer

    return build_tokenizer(name, {})


def _attributes(name: str, folder: Path) -> list[dict[str, str]]:
    from mgen.core.data.corpus import find_files

    tok = _tokenizer(name)
    files = find_files([folder], tok.format.patterns)
    return [piece_attributes(tok, piece, str(f)) for f in files for piece in tok.read(f)]


def test_keys_by_name_and_by_ear():
    assert [normal_key(k) for k in ("D minor", "Dm", "dmin", "Ador", "E-", "F#")] == [
        "D minor", "D minor", "D minor", "A dorian", "Eb major", "F# major"]  # fmt: skip
    assert normal_key("H minor") is None and move_key("D minor", 2) == "E minor"
    assert estimate_key([60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60]) == "C major"
    assert estimate_key([]) is None


def test_an_essen_tune_is_read_with_its_header_fields(music21_corpus: Path):
    tok = _tokenizer("abc-char")
    path = music21_corpus / "essenFolksong" / "testd.abc"
    first = piece_attributes(tok, tok.read(path)[0], str(path))
    # testd.abc's first tune: "M: 6/8" and "K: E"
    assert first == {"key": "E major", "meter": "6/8", "length": "short",
                     "collection": "essenFolksong"}  # fmt: skip


def test_a_chorale_key_agrees_with_music21(music21_corpus: Path, chorale_midi: Path):
    """The pitch-class estimate names the key music21's analysis finds, or its relative key
    (the same signature: a chorale in G minor often sounds its B flat major)."""
    import music21

    for midi in sorted(chorale_midi.parent.glob("*.mid")):
        found = piece_attributes(_tokenizer("midi-notes"), _tokenizer("midi-notes").read(midi)[0],
                                 str(midi))["key"]  # fmt: skip
        theirs = music21.converter.parse(music21_corpus / "bach" / f"{midi.stem}.mxl")
        expected = theirs.analyze("key")
        ours = music21.key.Key(*found.split())
        assert ours.sharps == expected.sharps, (midi.name, found, expected)


@pytest.mark.parametrize("name", TOKENIZERS)
def test_controls_train_round_trip_and_sample(name: str, corpora, tmp_path: Path):
    from mgen import api

    folder = corpora[name]
    run = tmp_path / "run"
    code, out = mgen("train", "--tokenizer", name, "--data", folder, "--out", run,
                     "--max-steps", "2", "--controls", "all", "--control-dropout", "0",
                     "--val-fraction", "0", *TINY)  # fmt: skip
    assert code == 0, out
    seen: dict[str, set[str]] = {}
    for attrs in _attributes(name, folder):
        for k, v in attrs.items():
            seen.setdefault(k, set()).add(v)
    loaded = api.load_run(run)
    assert api.controls_of(loaded) == {k: sorted(seen[k]) for k in controls.ATTRIBUTES
                                       if k in seen}  # fmt: skip
    config = json.loads((run / "config.json").read_text())
    assert config["train"]["controls"] == ["all"]
    assert set(config["data"]["controls_kept"].values()) == {1.0}  # dropout 0: all kept

    key = sorted(seen["key"])[0]
    asked = {"key": key, **({"meter": sorted(seen["meter"])[0]} if "meter" in seen else {})}
    result = api.sample(loaded, 40, 2, controls=asked, out=tmp_path / "s", seed=1)
    head = [controls.token(k, v) for k, v in asked.items()]
    for piece in result.pieces:
        assert piece[: len(head)] == head
        rules = loaded.tokenizer.grammar(loaded.tokenizer.vocab, 1)  # the format's own grammar
        assert rules.accepts(controls.strip(piece), end=False) is None, piece
    assert result.written.pieces == 2

    flags = [f"--{k}={v}" for k, v in asked.items()]
    code, out = mgen("sample", "--run", run, *flags, "-n", "20", "--out", tmp_path / "cli")
    assert code == 0, out
    assert all("<" not in p.read_text(errors="replace")[:20] for p in (tmp_path / "cli").iterdir()
               if p.suffix != ".mid")  # fmt: skip


@pytest.fixture(scope="module")
def controlled_run(tmp_path_factory, testd_abc: Path) -> Path:
    run = tmp_path_factory.mktemp("runs") / "controlled"
    code, out = mgen("train", "--data", testd_abc, "--out", run, "--max-steps", "2",
                     "--controls", "key,meter", "--control-dropout", "0", *TINY)  # fmt: skip
    assert code == 0, out
    return run


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--tempo", "120"], ["--tempo", "not trained with a tempo control", "key, meter"]),
        (["--control", "mood=sad"], ["--mood", "its controls: key, meter"]),
        (["--key", "G# minor"], ["never saw key 'G# minor'", "it knows:", "F major"]),
        (["--meter", "5/4"], ["never saw meter '5/4'", "4/4"]),
        (["--key", "H minor"], ["--key", "is not a key"]),
    ],
)
def test_an_unknown_control_is_one_line_and_exit_2(controlled_run: Path, tmp_path, flags,
                                                   expected):  # fmt: skip
    out = tmp_path / "never"
    code, output = mgen("sample", "--run", controlled_run, *flags, "--out", out)
    assert_one_line_error(code, output, *expected)
    assert code == 2
    assert not out.exists()


def test_a_run_without_controls_refuses_them(testd_run: Path, tmp_path: Path):
    code, output = mgen("sample", "--run", testd_run, "--key", "D major", "--out", tmp_path / "x")
    assert_one_line_error(code, output, "--key", "none (train with --controls)")
    assert code == 2 and not (tmp_path / "x").exists()


def test_training_refuses_an_unknown_attribute(testd_abc: Path, tmp_path: Path):
    code, output = mgen("train", "--data", testd_abc, "--out", tmp_path / "r", "--max-steps",
                        "1", "--controls", "key,mood", *TINY)  # fmt: skip
    assert_one_line_error(code, output, "--controls", "mood", "key, meter, tempo")
    assert code == 2


def test_dropout_leaves_out_the_share_asked(tmp_path: Path, music21_corpus: Path):
    """107 Essen ballads, each attribute left out of a piece with probability 0.4: the share
    kept, measured and recorded in config.json, is near 0.6."""
    (tmp_path / "abc").mkdir()
    shutil.copy(music21_corpus / "essenFolksong" / "ballad10.abc", tmp_path / "abc")
    run = tmp_path / "run"
    code, out = mgen("train", "--data", tmp_path / "abc", "--out", run, "--max-steps", "1",
                     "--controls", "key,meter,collection", *TINY)  # fmt: skip
    assert code == 0, out
    config = json.loads((run / "config.json").read_text())
    kept = config["data"]["controls_kept"]
    assert config["train"]["control_dropout"] == 0.4
    assert set(kept) == {"key", "meter", "collection"}
    assert all(0.45 <= share <= 0.75 for share in kept.values()), kept


def test_a_key_control_moves_with_transposition():
    from mgen.core.contracts import transpose

    tok = _tokenizer("midi-notes")
    assert transpose.move(tok, "<key=D_minor>", 3) == "<key=F_minor>"
    assert transpose.move(tok, "<meter=6/8>", 3) == "<meter=6/8>"
    assert transpose.move(_tokenizer("abc-char"), "<key=D_minor>", 3) == "<key=D_minor>"


def test_the_page_offers_the_controls_of_a_model_and_refuses_unknown_ones(
    controlled_run: Path, testd_run: Path, tmp_path: Path
):
    """GET /api/models lists each run's controls; a batch asked for a key and meter begins
    with them; an unseen key is one clear refusal."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from mgen.web.app import create_app
    from mgen.web.limits import Limits

    root = tmp_path / "runs"
    root.mkdir()
    shutil.copytree(controlled_run, root / "controlled")
    shutil.copytree(testd_run, root / "plain")
    app = create_app([root], Limits(), pretrained=False)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        models = {m["name"]: m for m in client.get("/api/models").json()["models"]}
        known = models["controlled"]["controls"]
        assert set(known) == {"key", "meter"} and models["plain"]["controls"] == {}
        body = {"model": "controlled", "length": 30, "num_samples": 1, "key": known["key"][0],
                "meter": known["meter"][0]}  # fmt: skip
        r = client.post("/api/generate", json=body)
        assert r.status_code == 200, r.text
        same = client.post("/api/generate", json={**body, "guidance": 1})
        text = [s["text"] for s in r.json()["samples"]]
        assert [s["text"] for s in same.json()["samples"]] == text  # 1: the model as trained
        assert client.post("/api/generate", json={**body, "guidance": 3}).status_code == 200
        assert client.post("/api/generate", json={**body, "guidance": 0}).status_code == 422
        r = client.post("/api/generate", json={**body, "key": "G# minor"})
        assert r.status_code == 422, r.text
        message = r.json()["error"]
        assert "never saw key 'G# minor'" in message and "\n" not in message


def test_restated_controls_come_before_every_nth_token_never_last():
    import numpy as np

    from mgen.core.data.controls import restated

    body = np.arange(10)
    assert restated(body, [100, 101], 4).tolist() == [0, 1, 2, 3, 100, 101, 4, 5, 6, 7, 100,
                                                      101, 8, 9]  # fmt: skip
    assert restated(np.arange(8), [100], 4).tolist() == [0, 1, 2, 3, 100, 4, 5, 6, 7]
    assert restated(body, [], 4).tolist() == body.tolist()  # a piece that kept none
    assert restated(body, [100], 0).tolist() == body.tolist()


def test_control_every_trains_and_samples_restate_the_asked_key(testd_abc: Path, tmp_path):
    """Training pieces restate their key every 16 tokens; samples asked for a key restate it
    at the same places (the grammar forces it), and the written files hold none of it."""
    from mgen import api
    from mgen.api.sampling import opening

    run_dir = tmp_path / "every"
    code, out = mgen("train", "--data", testd_abc, "--out", run_dir, "--max-steps", "2",
                     "--controls", "key", "--control-dropout", "0", "--control-every", "16",
                     *TINY)  # fmt: skip
    assert code == 0, out
    run = api.load_run(run_dir)
    assert run.config["train"]["control_every"] == 16
    key = api.controls_of(run)["key"][0]
    asked = controls.token("key", key)
    opened = opening(run, None, None, {"key": key})
    pieces = run.continue_tokens(opened, 120, 3, "temperature", seed=2, guidance=2.0)
    long = [p for p in pieces if len(p) > 40]
    assert long, "some sample runs past two restatements"
    for piece in long:
        at = [i for i, t in enumerate(piece) if controls.parse(t) is not None]
        assert at[0] == 0 and all(piece[i] == asked for i in at)
        assert [b - a for a, b in zip(at, at[1:], strict=False)] == [17] * (len(at) - 1)
        assert (len(piece) - 1 - at[-1]) <= 16
    result = api.sample(run, 120, 3, seed=2, controls={"key": key}, out=tmp_path / "s")
    assert not any("<key" in p.read_text(errors="replace") for p in result.paths
                   if p.suffix == ".abc")  # fmt: skip


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--control-every", "16"], ["--control-every", "with --controls"]),
        (["--controls", "key", "--control-every", "4"], ["--control-every", "at least 8"]),
        (["--controls", "key", "--control-every", "16", "--infill"], ["--infill"]),
    ],
)
def test_a_bad_control_every_is_one_line(flags, expected, testd_abc: Path, tmp_path: Path):
    code, output = mgen("train", "--data", testd_abc, "--out", tmp_path / "r", "--max-steps",
                        "1", *flags, *TINY)  # fmt: skip
    assert_one_line_error(code, output, *expected)
    assert not (tmp_path / "r").exists()


def test_restated_controls_are_read_and_never_scored():
    """With --control-every the sampler writes every control token, so validation (and the
    training loss) score the piece's own tokens only."""
    import numpy as np

    from mgen import api
    from mgen.core.sampling.scoring import score_pieces

    run = api.load_run("bach-satb")
    vocab = run.tokenizer.vocab
    key = vocab.encode(["<key=D_minor>"])[0]
    piece = np.array([vocab.start_id, key, *vocab.encode(["tracks_4", "inst_52"]), key,
                      *vocab.encode(["inst_52", "inst_52"]), vocab.end_id])  # fmt: skip
    every = score_pieces(run.model, [piece], "cpu", unk_id=vocab.unk_id)
    given = score_pieces(run.model, [piece], "cpu", unk_id=vocab.unk_id, unscored=[key])
    assert (every.tokens, given.tokens) == (len(piece) - 1, len(piece) - 3)
    assert given.nats < every.nats
