"""mgen from Python: the operations the CLI (`mgen.cli`) and the web server (`mgen.web`) are
built on, each returning a typed result (`mgen.api.results`).

import mgen
run = mgen.train(tokenizer="abc-char", model="lstm2", max_steps=200)   # or mgen.load_run()
pieces = run.sample(n=300, num_samples=4, decoder="top-p", top_p=0.9, seed=1)
written = run.write(pieces)                       # .abc and .mid files
print(mgen.judge(written.paths, reference=["folk-abc"])["formats"])
print(mgen.score(run, ["held-out/"])["loss_nats"])

One call per command: `fit` (mgen train: a TrainResult), `sample` (mgen sample: a
SampleResult, the files written and the grammar's part), `judge` and `score` (mgen eval: a
Judgement, a Loss), `render`, `export`, `plugins`, `models`, `datasets`, `prepare_dataset`,
`ensembles`.
Errors are the library's own (mgen.core.contracts.errors); the CLI turns them into one line
and an exit code, the web server into an HTTP status.

Importing this package is cheap (`mgen --help` does): torch and the rest load on first use.
"""

from __future__ import annotations

from typing import Any

from mgen.api.installed import datasets, ensembles, models, plugins, prepare_dataset, recipes
from mgen.api.judging import judge, judge_against, render, render_audio, score
from mgen.api.results import (
    DatasetInfo,
    GrammarUse,
    Judgement,
    Loss,
    PluginKind,
    PreparedDataset,
    SampleResult,
    ShippedModels,
    TrainResult,
)
from mgen.api.sampling import (
    accompany,
    check_decoder,
    check_output,
    controls_of,
    decoder_names,
    decoders,
    infill,
    load_run,
    loop_guards,
    primer_tokens,
    sample,
    stream,
    upload_primer,
    warm,
    write,
)
from mgen.api.sharing import export
from mgen.api.training import (
    DEFAULT_TIMEOUT,
    TIMEOUT_ENV,
    TrainConfig,
    check_settings,
    choose_run,
    fit,
    is_lead,
    launched,
    relaunch,
    train,
)

__all__ = [
    "DEFAULT_TIMEOUT", "TIMEOUT_ENV", "accompany", "DatasetInfo", "Finished", "GrammarUse",
    "Judgement", "Loss", "Note", "PluginKind", "PreparedDataset", "Run", "SampleResult",
    "ShippedModels", "Token", "TrainConfig", "TrainResult", "check_decoder", "check_output",
    "check_settings", "choose_run", "controls_of", "datasets", "decoder_names", "decoders",
    "ensembles", "export", "fit", "is_lead", "judge", "judge_against",
    "launched", "load_run", "loop_guards", "models", "plugins", "prepare_dataset",
    "primer_tokens", "infill", "recipes", "relaunch", "render", "render_audio", "sample", "score", "stream", "train",
    "upload_primer", "warm", "write",
]  # fmt: skip


#: A stream's events (`stream`), imported when first asked for.
STREAM_EVENTS = ("Finished", "Note", "Token")


def __getattr__(name: str) -> Any:
    """`Run` (torch) and the stream's events are imported when first asked for."""
    if name == "Run":
        from mgen.core.runs.run import Run

        return Run
    if name in STREAM_EVENTS:
        from mgen.core.sampling import stream

        return getattr(stream, name)
    raise AttributeError(f"module 'mgen.api' has no attribute {name!r}")
