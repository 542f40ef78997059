"""Domain exceptions. The CLI turns every `MgenError` into one line and a non-zero exit."""


class MgenError(Exception):
    """A user-facing problem with a clear message; never a bug."""

    exit_code = 1


class PluginError(MgenError):
    """An unknown or broken plugin."""


class ConfigError(MgenError):
    """An invalid setting or option value."""

    exit_code = 2


class DataError(MgenError):
    """A file or corpus that cannot be used."""


class CheckpointError(MgenError):
    """A run directory or checkpoint that is missing, corrupt or incompatible."""
