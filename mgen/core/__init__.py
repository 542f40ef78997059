"""Format-free core: plugin contracts, registry, data pipeline, training and sampling engines."""

from mgen.core import moved as _moved

_moved.install()
