"""What is installed: plugins, shipped models, datasets (and preparing one ahead of training).
`mgen plugins`, `mgen models` and `mgen data` print these. (`mgen bench` measures the library
from above, as a user would: `mgen.bench`.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mgen.api.results import (
    DatasetInfo,
    PluginKind,
    PreparedDataset,
    ShippedModels,
)

__all__ = ["datasets", "models", "plugins", "prepare_dataset"]

Log = Callable[[str], None]


def _quiet(msg: str) -> None:
    del msg


def plugins(check: bool = False) -> list[PluginKind]:
    """Every installed plugin by kind, with its package; broken ones say why. `check`: import
    every plugin, mgen's own too, to verify it loads (slower: loads torch)."""
    from mgen.core.contracts import registry

    return [
        PluginKind(kind, group, registry.describe(kind, check=check), registry.duplicates(kind))
        for kind, group in registry.GROUPS.items()
    ]


def models() -> ShippedModels:
    """The trained models installed packages ship (sample one by its name)."""
    from mgen.core.runs import pretrained

    return ShippedModels(pretrained.GROUP, pretrained.list_pretrained())


def datasets() -> list[DatasetInfo]:
    """Each installed dataset: tokenizer, format, files, whether prepared, source, licence.
    A broken third-party dataset (or one whose tokenizer is missing) says why instead."""
    from mgen.core.contracts import registry
    from mgen.core.contracts.errors import MgenError

    out = []
    for name in registry.names("dataset"):
        try:
            d = registry.load("dataset", name)()
            count, prepared = d.count(), _prepared(d)
            out.append(DatasetInfo(name, d.tokenizer, d.format, count, prepared, d.source,
                                   d.licence))  # fmt: skip
        except MgenError as e:
            out.append(DatasetInfo(name, error=str(e)))
    return out


def _prepared(d: Any) -> str:
    """yes: files there and their tokens cached (default settings); files only; no."""
    if not d.ready():
        return "no"
    from mgen.core.data.corpus import corpus_cache_path
    from mgen.core.data.prepare import build_tokenizer

    cached = corpus_cache_path(build_tokenizer(d.tokenizer, {}), d.files(progress=False))
    return "yes" if cached.exists() else "files only"


def prepare_dataset(
    name: str, *, workers: int = 0, progress: bool = False, log: Log = _quiet
) -> PreparedDataset:
    """Write the dataset `name` if it must be (bach-midi) and parse and cache its tokens for
    its tokenizer's default settings (`workers`: processes, 0 every core)."""
    from mgen.core.data.prepare import prepare_dataset as prepare

    files, corpus, cached = prepare(name, workers=workers, progress=progress, log=log)
    return PreparedDataset(name, files, len(corpus), len(corpus.files), int(corpus.offsets[-1]),
                           bool(corpus.from_cache), cached)  # fmt: skip


def recipes() -> dict[str, Any]:
    """Each built-in tokenizer's name -> its training recipe (`mgen train --help` states them);
    a plugin's own recipe is shown by `mgen plugins`."""
    from mgen.core.contracts import registry
    from mgen.core.contracts.errors import PluginError

    found = {}
    for name in registry.names("tokenizer"):
        if registry.plugin_distribution("tokenizer", name) != registry.BUILTIN:
            continue
        try:
            found[name] = registry.load("tokenizer", name).recipe
        except PluginError:  # a broken install: its help line is left out, training says why
            continue
    return found


#: Ensembles offered as ready choices (`mgen serve`'s page lists them; any list may be typed).
ENSEMBLES: tuple[str, ...] = (
    "soprano,alto,tenor,bass", "violin,violin,viola,cello", "piano,bass,drums",
    "flute,oboe,clarinet,bassoon,horn", "trumpet,trombone,tuba", "guitar,bass,drums",
)  # fmt: skip


def ensembles() -> dict[str, Any]:
    """What `--instruments` takes: the tokenizers that can choose their ensemble, ready
    ensembles, and the instrument names known (short names first, the drum kit, then General
    MIDI's 128 programs)."""
    from mgen.core.contracts.ensemble import choosing
    from mgen.formats.midi import gm

    names = [*gm.SHORT_NAMES, gm.DRUM_KIT_NAMES[0]]
    names += [n for n in gm.GM_NAMES if n.lower() not in gm.SHORT_NAMES]
    return {"tokenizers": choosing(), "presets": list(ENSEMBLES), "instruments": names}
