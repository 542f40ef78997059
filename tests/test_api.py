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
