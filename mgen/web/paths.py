"""No path of the server's machine in what a client reads: a listed model's folder becomes
its name, any other absolute path its last part (`/tmp/mgen-upload-x1/primer.abc` ->
`primer.abc`). The page's own URLs (`/api/...`) stay."""

from __future__ import annotations

import re
from collections.abc import Mapping

# Two or more parts after a leading slash, not preceded by a word, a dot or a slash (so no
# URL's path and no relative path); the server's own URL paths are left alone.
_ABSOLUTE = re.compile(
    r"(?<![\w./:~-])/(?!(?:api|static|docs|openapi\.json)\b)[^\s/'\"`()\[\]{},;<>]+"
    r"(?:/[^\s/'\"`()\[\]{},;<>]*)+"
)


def scrub(message: str, names: Mapping[str, str] | None = None) -> str:
    """`message` with each folder of `names` (path -> what to call it) replaced by its name,
    then every other absolute path by its last part."""
    for path, name in sorted((names or {}).items(), key=lambda kv: -len(kv[0])):
        message = message.replace(path, name)
    return _ABSOLUTE.sub(_last_part, message)


def _last_part(match: re.Match[str]) -> str:
    parts = [p for p in match.group().split("/") if p]
    return parts[-1] if parts else "/"
