"""The model card of a run shared on the Hugging Face Hub: README.md, its YAML front matter in
the keys the Hub reads (https://huggingface.co/docs/hub/model-cards): `library_name`, `license`,
`tags`, `model-index` (the validation loss), and `mgen` (the tokenizer, model and data, for
people and tools; the Hub keeps keys it does not know).

The data are named as mgen names them: a dataset plugin's name (`mgen data list`), whose
licence text the card quotes; files of the trainer's own are said to be such, their paths left
out. A dataset's licence is prose, not one of the Hub's licence ids, so `license` is `other`
unless the caller gives an id (`mgen export --license`). Nothing here imports torch or
huggingface_hub: the YAML is written here (JSON scalars, which YAML reads as they are).
"""

from __future__ import annotations

import json
from typing import Any

from mgen.core.contracts.errors import MgenError
from mgen.core.runs.artifact import RunDir
from mgen.core.runs.hub import is_hub_name

__all__ = ["card_text", "data_of", "metadata", "yaml"]

PLACEHOLDER = "OWNER/NAME"


def data_of(config: dict[str, Any]) -> tuple[list[str], bool]:
    """The dataset plugins a run trained on (its tokenizer's own when --data was not given),
    and whether it trained on files of its own as well."""
    from mgen.core.contracts import registry

    given = [str(d) for d in config.get("train", {}).get("data") or []]
    try:
        known = set(registry.names("dataset"))
        if not given:
            default = registry.load("tokenizer", str(config.get("tokenizer"))).recipe.dataset
            return ([default] if default else []), False
    except MgenError:
        return [], bool(given)
    return [d for d in given if d in known], any(d not in known for d in given)


def licences(names: list[str]) -> dict[str, str]:
    """Each dataset's licence text, as its plugin states it ('' when it states none)."""
    from mgen.core.contracts import registry

    out = {}
    for name in names:
        try:
            out[name] = str(registry.load("dataset", name).licence or "")
        except MgenError:
            out[name] = ""
    return out


def best_row(run: RunDir) -> dict[str, Any]:
    """The metrics row of the best validation loss ({} without one)."""
    rows = [r for r in run.read_metrics() if isinstance(r.get("val_loss"), float)]
    return min(rows, key=lambda r: r["val_loss"]) if rows else {}


def metadata(run: RunDir, name: str, license_id: str | None = None) -> dict[str, Any]:
    """The card's front matter for `run` shown under `name`."""
    config = run.read_config()
    tokenizer, model = str(config.get("tokenizer", "?")), str(config.get("model", "?"))
    datasets, own = data_of(config)
    data = datasets + (["own files"] if own else [])
    meta: dict[str, Any] = {
        "library_name": "mgen",
        "license": license_id or "other",
        "tags": ["mgen", "symbolic-music", tokenizer, model],
        "mgen": {
            "tokenizer": tokenizer,
            "model": model,
            "parameters": run.parameters(),
            "data": data,
            "init": _init(config.get("train", {}).get("init")),
        },  # fmt: skip
    }
    metrics = _metrics(best_row(run))
    if metrics:
        kind = data[0].replace(" ", "-") if data else "unknown"
        dataset = {"type": kind, "name": ", ".join(data) or "unknown"}
        task = {"type": "text-generation", "name": "Symbolic music generation"}
        results = [{"task": task, "dataset": dataset, "metrics": metrics}]
        meta["model-index"] = [{"name": name, "results": results}]
    return meta


def _init(init: Any) -> str | None:
    """The run a fine-tuned run started from, by a name others can use (a shipped model's or
    an hf: name); a directory of the trainer's own is not named (its path is theirs)."""
    if not init:
        return None
    text = str(init)
    return text if is_hub_name(text) or not any(c in text for c in "/\\") else "a run of its own"


def _metrics(row: dict[str, Any]) -> list[dict[str, Any]]:
    named = (("val_loss", "loss", "Validation loss (nats per token)"),
             ("val_bits_note", "bits_per_note", "Validation bits per note"),
             ("val_acc", "accuracy", "Validation next-token accuracy"))  # fmt: skip
    return [{"type": kind, "name": text, "value": round(row[key], 6)}
            for key, kind, text in named if isinstance(row.get(key), float)]  # fmt: skip


def yaml(value: Any, indent: int = 0) -> str:
    """`value` (dicts, lists, JSON scalars) as block YAML lines; None values are left out."""
    pad, out = " " * indent, []
    if isinstance(value, dict):
        for key, item in value.items():
            if item is None:
                continue
            if isinstance(item, (dict, list)) and item:
                out.append(f"{pad}{key}:\n{yaml(item, indent + 2)}")
            else:
                out.append(f"{pad}{key}: {json.dumps(item, ensure_ascii=False)}")
    else:
        for item in value:
            text = yaml(item, indent + 2) if isinstance(item, (dict, list)) and item else None
            scalar = json.dumps(item, ensure_ascii=False)
            out.append(f"{pad}- {text.lstrip()}" if text else f"{pad}- {scalar}")
    return "\n".join(out)


def card_text(run: RunDir, name: str, repo: str | None = None,
              license_id: str | None = None) -> str:  # fmt: skip
    """README.md for the Hub: the front matter, how to use the run, what it was trained on,
    and the run's own MODEL.md where it has one."""
    meta = metadata(run, name, license_id)
    facts = meta["mgen"]
    where = repo or PLACEHOLDER
    parts = [f"---\n{yaml(meta)}\n---\n", f"# {name}\n", _summary(run, facts), _usage(where, repo)]
    parts.append(_training(run, facts, meta.get("model-index")))
    parts.append(_terms(data_of(run.read_config())[0], facts["data"]))
    own = _own_card(run)
    if own:
        parts.append("## The run's own card (MODEL.md)\n\n" + own)
    return "\n".join(p.rstrip() + "\n" for p in parts if p)


def _summary(run: RunDir, facts: dict[str, Any]) -> str:
    said = run.description()
    plain = (f"An mgen {facts['model']} model of symbolic music, read and written by the "
             f"{facts['tokenizer']} tokenizer.")  # fmt: skip
    return f"{said}\n\n{plain}\n" if said else f"{plain}\n"


def _usage(where: str, repo: str | None) -> str:
    note = "" if repo else (f"\n{PLACEHOLDER}: the Hub repository this folder is uploaded to "
                            f"(`huggingface-cli upload {PLACEHOLDER} .`).\n")  # fmt: skip
    return (
        "## Use it\n\n"
        "```console\n"
        "pip install 'mgen[hub]'\n"
        f"mgen sample --run hf:{where} -k 4                     # .mid and native files\n"
        f"mgen train --init hf:{where} --data my-files/         # fine-tune it\n"
        "```\n\n"
        "```python\nimport mgen\n\n"
        f'run = mgen.load_run("hf:{where}")\n'
        "written = run.write(run.sample(n=500, num_samples=4))\n```\n"
        f"{note}\n"
        "The files are fetched once into the Hugging Face cache; offline "
        "(`HF_HUB_OFFLINE=1`) the cached copy is used.\n"
    )


def _training(run: RunDir, facts: dict[str, Any], index: Any) -> str:
    data = run.read_config().get("data", {})
    lines = [f"- tokenizer: {facts['tokenizer']}", f"- model: {facts['model']}"]
    if facts.get("parameters"):
        lines.append(f"- parameters: {facts['parameters']:,}")
    if facts.get("init"):
        lines.append(f"- fine-tuned from: {facts['init']}")
    if isinstance(data, dict) and data.get("train_pieces") is not None:
        lines.append(f"- trained on {data.get('train_pieces'):,} pieces "
                     f"({data.get('train_tokens') or 0:,} tokens)")  # fmt: skip
    if index:
        for m in index[0]["results"][0]["metrics"]:
            lines.append(f"- {m['name']}: {m['value']:.4f}")
    return "## Training\n\n" + "\n".join(lines) + "\n"


def _terms(datasets: list[str], data: list[str]) -> str:
    lines = [
        f"- {name}: {text or 'no licence stated'}" for name, text in licences(datasets).items()
    ]
    if "own files" in data:
        lines.append("- files of the trainer's own: their terms are the trainer's to state")
    return "## Data and licence\n\n" + ("\n".join(lines) or "- unknown") + "\n"


def _own_card(run: RunDir) -> str:
    try:
        return run.card.read_text(encoding="utf-8")
    except OSError:
        return ""
