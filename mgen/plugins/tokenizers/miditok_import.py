"""MidiTok, imported without torch (a tokenizer never loads it: docs/plugins.md).

MidiTok's package imports its optional torch datasets module when torch is installed: 1.5 s
and torch itself. An entry of None in sys.modules makes that one import fail, which MidiTok
expects and skips; the entry is removed after, so `import miditok.pytorch_data` still works for
a user who wants it."""

from __future__ import annotations

import sys

_BLOCKED = "miditok.pytorch_data"
if "miditok" not in sys.modules and _BLOCKED not in sys.modules:
    sys.modules[_BLOCKED] = None  # type: ignore[assignment]
    try:
        import miditok
    except ImportError as e:
        raise ImportError(f"{e}: the miditok tokenizer needs pip install 'mgen[miditok]'") from None
    finally:
        del sys.modules[_BLOCKED]
else:
    import miditok

__all__ = ["miditok"]
