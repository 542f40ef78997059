"""config.json's shape: each fact of a run written once, and read from there.

Layout 1 (mgen 0.1 and 0.2, every shipped model) wrote the tokenizer's name four times: in
config.json as "tokenizer", "train" -> "tokenizer" and "plugins" -> "tokenizer" -> "name",
and in tokenizer.json as "plugin"; the model's name three times. Layout 2 (`LAYOUT`) writes:

- the tokenizer's plugin name, version and distribution: in tokenizer.json only, beside the
  state they describe ("plugin", "plugin_version", "distribution");
- the model's plugin name: config.json's "model"; its version and distribution: "plugins" ->
  "model";
- "train": the settings as given, less those two names.

`view` gives every reader the shape layout 1 had (what `Run.config` has always been), each
fact filled from its one home, whichever layout the run was written in; `stored` is its
inverse. Keys here are JSON keys; file names belong to `mgen.core.runs.artifact`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

LAYOUT = 2
#: The copies layout 2 leaves out of "train": the names said once elsewhere.
_TRAIN_COPIES = ("tokenizer", "model")


class Plugin(NamedTuple):
    """A plugin as a run records it."""

    name: str
    version: str | None
    distribution: str | None


def stored(config: dict[str, Any]) -> dict[str, Any]:
    """config.json as layout 2 writes it, from a config in `view`'s shape."""
    out: dict[str, Any] = {"layout": LAYOUT}
    for key, value in config.items():
        if key in ("layout", "tokenizer"):
            continue
        if key == "train" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in _TRAIN_COPIES}
        elif key == "plugins" and isinstance(value, dict):
            value = {
                kind: _unnamed(record) for kind, record in value.items() if kind != "tokenizer"
            }
        out[key] = value
    return out


def view(config: dict[str, Any], tokenizer: Plugin) -> dict[str, Any]:
    """config.json (either layout) in the shape every reader knows, the tokenizer's facts
    taken from `tokenizer` (tokenizer.json's record) and the model's name from "model"."""
    model = config.get("model")
    names = {"tokenizer": tokenizer.name} | ({"model": model} if model is not None else {})
    out: dict[str, Any] = {}
    for key, value in config.items():
        if key in ("layout", "tokenizer"):
            continue
        if key == "train" and isinstance(value, dict):
            value = {**names, **{k: v for k, v in value.items() if k not in _TRAIN_COPIES}}
        elif key == "plugins" and isinstance(value, dict):
            value = _plugins(value, tokenizer, model)
        out[key] = value
    head = {"train": out["train"]} if "train" in out else {}
    return head | {"tokenizer": tokenizer.name} | out


def _plugins(records: dict[str, Any], tokenizer: Plugin, model: Any) -> dict[str, Any]:
    out = {"tokenizer": dict(tokenizer._asdict())}
    for kind, record in records.items():
        if kind != "tokenizer":
            name = {"name": model} if kind == "model" and model is not None else {}
            out[kind] = {**name, **_unnamed(record)} if isinstance(record, dict) else record
    return out


def _unnamed(record: Any) -> Any:
    return {k: v for k, v in record.items() if k != "name"} if isinstance(record, dict) else record
