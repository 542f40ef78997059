"""The run artifact (`mgen.core.runs.artifact.RunDir`): one home for a run directory's files.
Saving then loading gives the same facts; each fact is written once (the tokenizer's name in
tokenizer.json alone); runs in the layout mgen 0.2 wrote (every shipped model) keep loading."""

from __future__ import annotations

import ast
import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mgen.core.runs import layout
from mgen.core.runs.artifact import CONFIG, TOKENIZER, RunDir
from mgen.core.runs.run import load_run

MGEN = Path(__file__).resolve().parents[1] / "mgen"
SHIPPED = "folk-abc"


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> RunDir:
    """A shipped model in the layout mgen 0.2 wrote every run in (layout 1, the shipped models'
    until they were retrained): a copy of folk-abc, its config.json written back in that shape
    (`layout.view`: the tokenizer's name in config.json three times over, no "layout")."""
    source = RunDir.resolve(SHIPPED)
    run = RunDir(shutil.copytree(source.path, tmp_path_factory.mktemp("layout1") / SHIPPED))
    run.config_file.write_text(json.dumps(source.read_config(), indent=2))
    config = json.loads(run.config_file.read_text())
    assert "layout" not in config and config["train"]["tokenizer"] == "abc-char"
    return run


@pytest.fixture
def old_run(shipped: RunDir, tmp_path: Path) -> RunDir:
    """A copy of a shipped model (layout 1), its config.json's copies of the tokenizer's name
    made stale: readers must take the name from tokenizer.json, its one home."""
    run = RunDir(shutil.copytree(shipped.path, tmp_path / "old"))
    config = json.loads(run.config_file.read_text())
    config["tokenizer"] = config["train"]["tokenizer"] = "stale-name"
    config["plugins"]["tokenizer"]["name"] = "stale-name"
    run.config_file.write_text(json.dumps(config))
    return run


def test_a_run_in_the_old_layout_loads_and_samples(old_run: RunDir, shipped: RunDir):
    loaded = load_run(old_run.path)
    assert loaded.tokenizer_name == "abc-char" and loaded.config["train"]["tokenizer"] == "abc-char"
    assert loaded.config["plugins"]["tokenizer"]["name"] == "abc-char"
    # Raw (no grammar): 40 characters hold no whole tune, which the grammar would cut to nothing.
    [piece] = loaded.sample(n=40, decoder="argmax", grammar=False)
    assert (
        piece == load_run(SHIPPED).sample(n=40, decoder="argmax", grammar=False)[0]
        and len(piece) > 0
    )
    facts = old_run.facts()
    assert (facts.tokenizer, facts.model) == ("abc-char", "lstm2") and facts.parameters
    assert old_run.start().tokenizer == "abc-char"  # fine-tuning from it
    assert old_run.check_whole()["tokenizer"] == "abc-char"


def test_saving_then_loading_gives_the_same_facts(shipped: RunDir, tmp_path: Path):
    config, tok = shipped.read_config(), shipped.load_tokenizer()
    new = RunDir(tmp_path / "new")
    new.create()
    new.save_tokenizer("abc-char", tok)
    new.save_config(config)
    new.save_weights(shipped.load_model(len(tok.vocab), config))
    new.write_metrics(shipped.read_metrics())
    assert new.read_config() == config
    assert new.load_tokenizer().state_dict() == tok.state_dict()
    assert new.facts() == dataclasses.replace(shipped.facts(), description="")  # no card
    assert new.start().model_sizes == shipped.start().model_sizes
    a, b = load_run(new.path), load_run(shipped.path)
    assert a.sample(n=30, decoder="argmax") == b.sample(n=30, decoder="argmax")


def test_each_fact_is_written_once(shipped: RunDir, tmp_path: Path):
    """The new layout: the tokenizer's name, version and distribution in tokenizer.json only;
    the model's name once in config.json."""
    new = RunDir(tmp_path / "new")
    new.save_tokenizer("abc-char", shipped.load_tokenizer())
    new.save_config(shipped.read_config())
    on_disk = json.loads(new.config_file.read_text())
    assert on_disk["layout"] == layout.LAYOUT
    assert "abc-char" not in json.dumps(on_disk)
    assert json.dumps(on_disk).count('"lstm2"') == 1 and on_disk["model"] == "lstm2"
    assert json.loads(new.tokenizer_file.read_text())["plugin"] == "abc-char"


def test_the_view_and_the_stored_form_are_inverse():
    plugin = layout.Plugin("kern", "0.1.0", "mgen")
    view = {"train": {"tokenizer": "kern", "model": "gru", "seed": 3}, "tokenizer": "kern",
            "model": "gru", "plugins": {"tokenizer": plugin._asdict(),
                                        "model": {"name": "gru", "version": "1", "distribution": "x"}},
            "seq_len": 64}  # fmt: skip
    stored = layout.stored(view)
    assert stored == {"layout": 2, "train": {"seed": 3}, "model": "gru",
                      "plugins": {"model": {"version": "1", "distribution": "x"}}, "seq_len": 64}  # fmt: skip
    assert layout.view(stored, plugin) == view
    assert layout.view(view, plugin) == view  # layout 1 reads as itself


def test_run_file_names_are_literals_in_one_module():
    """model.safetensors, tokenizer.json, config.json, checkpoint.pt and metrics.csv are
    named by the run artifact alone (prose may mention them)."""
    names = {"model.safetensors", "tokenizer.json", "config.json", "checkpoint.pt",
             "metrics.csv", "loss.png", "MODEL.md"}  # fmt: skip
    found = set()
    for path in MGEN.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and text.strip("/ ") in names:
                found.add(path.relative_to(MGEN.parent).as_posix())
    assert found == {"mgen/core/runs/artifact.py"}


def test_the_safetensors_header_is_parsed_in_one_place():
    found = {p.relative_to(MGEN.parent).as_posix() for p in MGEN.rglob("*.py")
             if 'unpack("<Q"' in p.read_text(encoding="utf-8")}  # fmt: skip
    assert found == {"mgen/core/runs/header.py"}


def test_listing_runs_and_their_facts_does_not_import_torch(shipped: RunDir):
    probe = (
        "import sys\nfrom pathlib import Path\nfrom mgen.core.runs.artifact import RunDir\n"
        "from mgen.web.catalog import Catalog\n"
        f"root = Path({str(shipped.path.parent)!r})\n"
        "runs = RunDir.find(root)\nassert runs and all(r.facts().tokenizer for r in runs)\n"
        "assert Catalog([root]).scan()\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False", out.stdout


def test_a_run_without_its_tokenizer_file_says_so(old_run: RunDir):
    (old_run.path / TOKENIZER).unlink()
    with pytest.raises(Exception, match=f"missing {old_run.path / TOKENIZER}"):
        old_run.read_config()
    assert not RunDir(old_run.path / "nothing").is_run() and (old_run.path / CONFIG).is_file()


def test_a_run_saved_in_the_old_layout_resumes_and_is_saved_in_the_new(
    testd_run: Path, tmp_path: Path
):
    """A run of mgen 0.2 (config.json naming the tokenizer three times) continues with
    --resume; its config.json is then written in the new layout, its facts unchanged."""
    from conftest import mgen

    run = RunDir(shutil.copytree(testd_run, tmp_path / "old"))
    old = run.read_config()  # the shape mgen 0.2 wrote config.json in (layout 1)
    names = old["tokenizer"], old["train"]["tokenizer"], old["plugins"]["tokenizer"]["name"]
    assert names == ("abc-char",) * 3
    run.config_file.write_text(json.dumps(old))
    assert run.read_config() == old
    code, out = mgen("train", "--resume", "--out", run.path, "--max-steps", "3", "--quiet")
    assert code == 0, out
    assert json.loads(run.config_file.read_text())["layout"] == layout.LAYOUT
    assert run.read_config()["train"] == {**old["train"], "max_steps": 3}
    assert run.load_checkpoint()["progress"]["step"] == 3
