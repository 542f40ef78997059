"""mgen: generate symbolic music with recurrent networks.

The Python API (`mgen.load_run`, `mgen.train`, `mgen.score`, `mgen.judge`, `mgen.render`,
`mgen.export`, `mgen.TrainConfig`) is imported on first use, so `import mgen` and `mgen --help` stay fast.
"""

import os

# Two OpenMP threads spin-waiting on a busy 2-core machine lose ~3x (docs/performance.md); passive
# waiting degrades gracefully. Set here so library users get it too, before torch starts OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from mgen import moved as _moved

# Module paths of 0.1 (mgen.core.tokenizer, ...) still import for one release, with a warning.
_moved.install()

__version__ = "0.1.0"

_API = ("Run", "TrainConfig", "export", "judge", "load_run", "render", "score", "train")
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from mgen import api

        return getattr(api, name)
    raise AttributeError(f"module 'mgen' has no attribute {name!r}")
