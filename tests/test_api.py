"""The Python API a notebook uses: five lines from training to judged, rendered music."""

from __future__ import annotations

from pathlib import Path

import pytest

import mgen


@pytest.mark.slow
def test_a_notebook_trains_samples_judges_scores_and_renders(abc_folder: Path, tmp_path: Path):
    run = mgen.train(tokenizer="abc-char", data=[str(abc_folder)], max_steps=15, batch_size=8,
                     seq_len=32, device="cpu", model_options={"hidden_size": 32, "embed_dim": 16},
                     out=tmp_path / "run")  # fmt: skip
    pieces = run.sample(n=120, num_samples=2, decoder="top-p", top_p=0.9, seed=1)
    written = run.write(pieces, tmp_path / "samples")
    report = mgen.judge(written.paths)
    loss = mgen.score(run, [str(abc_folder)])
    midi = next(p for p in written.paths if p.suffix == ".mid")  # the .abc may not parse
    pictures = mgen.render([midi], png=True, out=tmp_path / "png")

    assert run.path == (tmp_path / "run").resolve() and run.config["train"]["max_steps"] == 15
    assert len(pieces) == 2 and all(isinstance(t, str) for t in pieces[0])
    assert {p.suffix for p in written.paths} >= {".abc", ".mid"}
    assert report["formats"]  # one block per reader that read the files
    assert loss["loss_nats"] > 0 and loss["training_overlap"] == 1  # it trained on that file
    assert pictures[0].read_bytes()[:4] == b"\x89PNG"
    again = mgen.load_run(run.path)
    assert again.sample(n=40, seed=3) == run.sample(n=40, seed=3)


def test_unknown_api_names_are_attribute_errors():
    with pytest.raises(AttributeError):
        mgen.no_such_thing  # noqa: B018 - the attribute access is the test
    assert callable(mgen.load_run) and mgen.TrainConfig().model == "lstm2"


def test_train_resumes_through_the_api(abc_folder: Path, tmp_path: Path):
    settings = dict(tokenizer="abc-char", data=[str(abc_folder)], batch_size=8, seq_len=32,
                    device="cpu", model_options={"hidden_size": 16, "embed_dim": 8})  # fmt: skip
    mgen.train(max_steps=3, out=tmp_path / "run", **settings)
    resumed = mgen.train(out=tmp_path / "run", resume=True, max_steps=5)
    from mgen.core.runs.rundir import load_checkpoint

    assert load_checkpoint(resumed.path)["progress"]["step"] == 5


# -- the layer the CLI and the web server call ---------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
#: What only mgen.api may reach: the library's operations (training, sampling, runs, data,
#: judging, formats, the built-in plugins). mgen.core.contracts is the shared vocabulary
#: (errors, registry, config), which every layer may name.
OPERATIONS = ("mgen.core.training", "mgen.core.sampling", "mgen.core.runs", "mgen.core.data",
              "mgen.evaluate", "mgen.formats", "mgen.plugins", "mgen.pretrained")  # fmt: skip
#: Front ends the CLI starts that sit above the API as the CLI does, each for one command.
FRONT_ENDS = {"serve.py": "mgen.web", "bench.py": "mgen.bench"}


def _imports(path: Path) -> set[str]:
    """Every mgen module `path` imports, at module level or inside functions."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return {m for m in found if m.split(".")[0] == "mgen"}


def _inside(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def test_every_cli_command_goes_through_the_api():
    """A command parses its options, calls mgen.api and prints: it reaches no training,
    sampling, run, data, judging or format module itself."""
    commands = [p for p in sorted((ROOT / "mgen" / "cli").glob("*.py"))
                if p.name not in ("__init__.py", "app.py", "common.py")]  # fmt: skip
    assert {p.name for p in commands} >= {"train.py", "sample.py", "eval.py", "render.py",
                                          "data.py", "models.py", "plugins.py"}  # fmt: skip
    for path in commands:
        imported = _imports(path)
        around = [m for m in imported if any(_inside(m, op) for op in OPERATIONS)]
        assert not around, f"{path.name} bypasses mgen.api: {around}"
        front = FRONT_ENDS.get(path.name)
        others = [m for m in imported if _inside(m, "mgen.web") or _inside(m, "mgen.bench")]
        assert all(front and _inside(m, front) for m in others), (path.name, others)
        if front is None:
            assert "mgen.api" in imported or any(_inside(m, "mgen.api") for m in imported), (
                f"{path.name} does not call mgen.api"
            )


def test_the_web_service_goes_through_the_api():
    """The server's request handling and its worker processes sample, read primers and
    judge through mgen.api (verovio_box, the engraver's process box, is plumbing they share)."""
    for name in ("service.py", "engine.py", "worker.py"):
        imported = _imports(ROOT / "mgen" / "web" / name)
        around = [m for m in imported if any(_inside(m, op) for op in OPERATIONS)
                  and not _inside(m, "mgen.evaluate.verovio_box")]  # fmt: skip
        assert not around, f"web/{name} bypasses mgen.api: {around}"
    assert "mgen.api" in _imports(ROOT / "mgen" / "web" / "engine.py")


def test_the_api_imports_without_torch():
    """`mgen --help` imports mgen.api (through the commands): torch loads on first use."""
    import subprocess
    import sys

    code = "import sys, mgen.api, mgen.cli.app; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    from mgen import api

    assert api.load_run is mgen.load_run and api.Run is mgen.Run
    with pytest.raises(AttributeError):
        api.no_such_thing  # noqa: B018 - the attribute access is the test


def test_the_api_defaults_are_the_librarys():
    from mgen import api
    from mgen.core.training.launch import DEFAULT_TIMEOUT
    from mgen.evaluate.report import DEFAULT_REFERENCE_LIMIT

    assert api.judging.DEFAULT_REFERENCE_LIMIT == DEFAULT_REFERENCE_LIMIT
    assert api.DEFAULT_TIMEOUT == DEFAULT_TIMEOUT


TINY_SETTINGS = dict(tokenizer="abc-char", batch_size=8, seq_len=32, device="cpu",
                     model_options={"hidden_size": 16, "embed_dim": 8})  # fmt: skip


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, music21_corpus: Path):
    """A 3-step abc-char run, trained through `api.fit` (the way `mgen train` trains)."""
    import shutil

    from mgen import api

    root = tmp_path_factory.mktemp("api")
    (root / "abc").mkdir()
    shutil.copy(music21_corpus / "essenFolksong" / "ballad10.abc", root / "abc")
    settings = {**TINY_SETTINGS, "data": [str(root / "abc")], "max_steps": 3}
    return api.fit(settings, root / "run")


def test_fit_says_where_the_run_went_and_resumes_by_the_one_rule(fitted, tmp_path: Path):
    from mgen import api
    from mgen.core.contracts.errors import ConfigError

    assert isinstance(fitted, api.TrainResult) and not fitted.resumed
    assert fitted.path.name == "run" and fitted.config.max_steps == 3
    assert fitted.load().config["train"]["max_steps"] == 3
    with pytest.raises(ConfigError, match="already holds a run; pass --resume"):
        api.choose_run(fitted.config.to_dict(), fitted.path)
    cfg, path = api.choose_run({"max_steps": 4}, fitted.path, resume=True)
    assert path == fitted.path.resolve() and cfg.max_steps == 4 and cfg.seq_len == 32
    with pytest.raises(ConfigError, match="--seq-len 16 \\(the run: 32\\)"):
        api.choose_run({"seq_len": 16}, fitted.path, resume=True)  # not the run's own


def test_sample_returns_the_files_it_wrote(fitted, tmp_path: Path):
    from mgen import api
    from mgen.core.contracts.errors import ConfigError, MgenError

    result = api.sample(fitted.path, n=60, num_samples=2, decoder="top-p", top_p=0.9, seed=1,
                        out=tmp_path / "s")  # fmt: skip
    assert isinstance(result, api.SampleResult) and len(result.pieces) == 2
    assert result.paths == result.written.paths and result.written.folder == tmp_path / "s"
    assert result.grammar is not None and result.grammar.on  # abc-char samples under its grammar
    assert len(result.grammar.report.steps) == 2  # what the grammar refused, per sample
    for piece, files in result.by_sample():
        assert piece in result.pieces and all(f.stem == files[0].stem for f in files)
        assert [f.suffix for f in files] in ([".abc"], [".abc", ".mid"])  # MIDI when it could
    again = api.sample(result.run, n=60, num_samples=2, decoder="top-p", top_p=0.9, seed=1,
                       out=tmp_path / "t")  # fmt: skip
    assert again.pieces == result.pieces  # a loaded run samples as its directory does
    with pytest.raises(MgenError, match="already holds sample-001"):
        api.sample(result.run, n=10, out=tmp_path / "s")
    with pytest.raises(ConfigError, match="primer has symbols this tokenizer does not know"):
        api.sample(result.run, n=10, primer="\u266b")
    with pytest.raises(ConfigError, match="--repetition-window"):
        api.sample(fitted.path, repetition={"repetition_window": 0})


def test_loop_guards_are_the_decoders_unless_given():
    from mgen import api
    from mgen.core.sampling.engine import GREEDY, RepetitionConfig

    assert api.loop_guards("argmax") == GREEDY
    assert api.loop_guards("top-p") == RepetitionConfig()
    assert api.loop_guards("argmax", {"no_repeat_ngram": 0, "repetition_penalty": None}) == (
        RepetitionConfig(repetition_penalty=GREEDY.repetition_penalty)
    )


def test_the_grammar_use_reads_as_the_web_page_shows_it():
    from mgen import api
    from mgen.core.sampling.engine import GrammarReport

    used = api.GrammarUse(True, GrammarReport(refused=[1, 3], steps=[10, 30]))
    assert used.to_dict() == {"on": True, "refused": [1, 3], "steps": [10, 30]}
    assert used.share() == pytest.approx(0.1)


def test_judgement_and_loss_read_as_dicts_and_print_as_the_cli_does(fitted, tmp_path: Path):
    import json

    from mgen import api
    from mgen.evaluate.heldout import render_text as loss_text
    from mgen.evaluate.report import render_text

    written = api.sample(fitted.path, n=80, num_samples=2, seed=2, out=tmp_path / "s")
    judged = api.judge(written.paths, run=fitted.path)
    assert isinstance(judged, api.Judgement) and judged["formats"] and "files" in judged
    assert judged.text() == render_text(judged.figures)
    assert judged.files == [Path(f) for f in judged["files"]]
    assert json.loads(judged.write_json(tmp_path / "j.json").read_text()) == judged.figures
    tables = judged.tables()
    assert set(tables) == set(judged["formats"]) and all(t["rows"] for t in tables.values())
    assert judged.write_html(tmp_path / "j.html").read_text().startswith("<!")
    loss = api.score(written.run, fitted.config.data)
    assert isinstance(loss, api.Loss) and loss["loss_nats"] > 0 and dict(loss) == loss.figures
    assert loss.text() == loss_text(loss.figures)


def test_what_is_installed_is_listed_as_typed_rows():
    from mgen import api

    kinds = api.plugins()
    assert [k.kind for k in kinds] == ["tokenizer", "model", "decoder", "dataset"]
    names = {p.name for k in kinds for p in k.plugins}
    assert {"abc-char", "lstm2", "top-p", "folk-abc"} <= names
    assert set(api.decoder_names()) == {d["name"] for d in api.decoders()}
    found = {d.name: d for d in api.datasets()}
    assert found["folk-abc"].tokenizer == "abc-char" and found["folk-abc"].files
    assert found["folk-abc"].prepared in ("yes", "files only", "no")
    shipped = api.models()
    assert shipped.group == "mgen.pretrained" and isinstance(shipped.models, list)


def test_one_primer_check_words_its_refusal_for_each_caller():
    from collections import Counter

    from mgen.core.contracts.errors import ConfigError, DataError
    from mgen.core.contracts.vocab import Vocab
    from mgen.core.sampling import primer
    from mgen.plugins.tokenizers.abc_char import AbcCharTokenizer

    tok = AbcCharTokenizer()
    tok.vocab = Vocab.build(Counter("abc"))
    assert primer.primer_tokens(tok, "ab", files=False) == ["a", "b"]
    with pytest.raises(ConfigError, match="this tokenizer does not know: 'z'"):
        primer.primer_tokens(tok, "az")
    with pytest.raises(ConfigError, match="this model does not know: 'z'"):
        primer.primer_tokens(tok, "az", files=False, message=primer.UNKNOWN_TO_MODEL)
    with pytest.raises(DataError, match="upload: symbols this model does not know: 'z'"):
        primer.fit_primer(tok, ["a", "z"], 100)
    fitted = primer.fit_primer(tok, list("abcabc"), 4)  # cut to fit, then to_dict for the page
    assert fitted.to_dict() == {"primer": "abc", "tokens": 3, "of": 6,
                                "note": "the first 3 of its 6 tokens (primer limit)"}  # fmt: skip
