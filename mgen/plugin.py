"""Everything a plugin builds on, in one import: `from mgen.plugin import Tokenizer, DataError`.

Names are imported on first use, so a tokenizer that imports this never pulls in torch (only
`SequenceModel` and `ModelConfig` do). docs/plugins.md describes each contract.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOME = {
    # contracts
    "Tokenizer": "mgen.core.contracts.tokenizer",
    "TokenizerConfig": "mgen.core.contracts.tokenizer",
    "SequenceModel": "mgen.core.contracts.model",
    "ModelConfig": "mgen.core.contracts.model",
    "Decoder": "mgen.core.contracts.decoder",
    "Dataset": "mgen.core.contracts.dataset",
    "Config": "mgen.core.contracts.config",
    "Vocab": "mgen.core.contracts.vocab",
    "Grammar": "mgen.core.contracts.grammar",
    "KindGrammar": "mgen.core.contracts.grammar",
    "Recipe": "mgen.core.contracts.recipe",
    # file formats: a tokenizer's `format` (a built-in one, or a Format of its own)
    "Format": "mgen.formats.base",
    "ABC": "mgen.formats.abc.format",
    "KERN": "mgen.formats.kern.format",
    "MIDI": "mgen.formats.midi.format",
    # errors a plugin raises
    "MgenError": "mgen.core.contracts.errors",
    "ConfigError": "mgen.core.contracts.errors",
    "DataError": "mgen.core.contracts.errors",
    # writing files safely
    "atomic_path": "mgen.core.contracts.io",
    "write_text": "mgen.core.contracts.io",
    "write_json": "mgen.core.contracts.io",
    # the score every format reads into
    "Piece": "mgen.formats.score",
    "make_piece": "mgen.formats.score",
}
__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'mgen.plugin' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)


def __dir__() -> list[str]:
    return __all__
