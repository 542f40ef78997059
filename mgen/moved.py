"""Old module paths, kept importable for one release with a DeprecationWarning.

Version 0.2 grouped `mgen.core` into subpackages and moved the music formats to `mgen.formats`
(docs/plugins.md, "Porting a plugin from 0.1"). A plugin that still imports, say, `mgen.core.tokenizer` gets
the module from its new home and a warning naming it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType

MOVED = {
    "mgen.core.augment": "mgen.core.data.augment",
    "mgen.core.batches": "mgen.core.data.batches",
    "mgen.core.carry": "mgen.core.training.carry",
    "mgen.core.config": "mgen.core.contracts.config",
    "mgen.core.corpus": "mgen.core.data.corpus",
    "mgen.core.dataset": "mgen.core.contracts.dataset",
    "mgen.core.decoder": "mgen.core.contracts.decoder",
    "mgen.core.device": "mgen.core.training.device",
    "mgen.core.distributed": "mgen.core.training.distributed",
    "mgen.core.errors": "mgen.core.contracts.errors",
    "mgen.core.finetune": "mgen.core.runs.finetune",
    "mgen.core.grammar": "mgen.core.contracts.grammar",
    "mgen.core.history": "mgen.core.training.history",
    "mgen.core.io": "mgen.core.contracts.io",
    "mgen.core.launch": "mgen.core.training.launch",
    "mgen.core.model": "mgen.core.contracts.model",
    "mgen.core.notes": "mgen.formats.score",
    "mgen.core.output": "mgen.core.runs.output",
    "mgen.core.prepare": "mgen.core.data.prepare",
    "mgen.core.pretrained": "mgen.core.runs.pretrained",
    "mgen.core.primer": "mgen.core.sampling.primer",
    "mgen.core.registry": "mgen.core.contracts.registry",
    "mgen.core.run": "mgen.core.runs.run",
    "mgen.core.rundir": "mgen.core.runs.rundir",
    "mgen.core.sample": "mgen.core.sampling.engine",
    "mgen.core.schedule": "mgen.core.training.schedule",
    "mgen.core.scoring": "mgen.core.sampling.scoring",
    "mgen.core.signals": "mgen.core.training.signals",
    "mgen.core.tokenizer": "mgen.core.contracts.tokenizer01",  # the 0.1 base methods too
    "mgen.core.train_config": "mgen.core.training.train_config",
    "mgen.core.trainer": "mgen.core.training.trainer",
    "mgen.core.versions": "mgen.core.runs.versions",
    "mgen.core.vocab": "mgen.core.contracts.vocab",
    "mgen.evaluate.abc_check": "mgen.formats.abc.check",
    "mgen.evaluate.humdrum": "mgen.formats.kern.humdrum",
    "mgen.evaluate.smf": "mgen.formats.midi.smf",
    "mgen.plugins.tokenizers._music21": "mgen.formats.m21",
    "mgen.plugins.tokenizers.abc_music": "mgen.formats.abc.music",
    "mgen.plugins.tokenizers.abc_read": "mgen.formats.abc.read",
    "mgen.plugins.tokenizers.kern_text": "mgen.formats.kern.text",
    "mgen.plugins.tokenizers.midi_read": "mgen.formats.midi.read",
    "mgen.plugins.tokenizers.notes_abc": "mgen.formats.abc.notes",
    "mgen.plugins.tokenizers.notes_midi": "mgen.formats.midi.notes",
}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old name and hands back the module at its new path."""

    def find_spec(self, fullname, path=None, target=None):
        del path, target  # the finder protocol's; an old name is found by name alone
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = MOVED[spec.name]
        warnings.warn(
            f"{spec.name} moved to {new}; import it from there (or from mgen.plugin)",
            DeprecationWarning,
            stacklevel=4,
        )
        return importlib.import_module(new)

    def exec_module(self, module: ModuleType) -> None:
        del module  # already executed at its new path


def install() -> None:
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.append(_Alias())
