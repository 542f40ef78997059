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


def one_line(e: BaseException, limit: int = 300) -> str:
    """An exception as one short line (library messages often span several)."""
    text = " ".join(ln.strip() for ln in str(e).splitlines() if ln.strip())
    return (text[:limit] + "...") if len(text) > limit else text or type(e).__name__
