"""Runs shared through the Hugging Face Hub: `hf:owner/name[@revision]` names a Hub repository
holding a run directory's files (written by `mgen export RUN DIR --hub`, uploaded with
`huggingface-cli upload`).

`download` fetches the run's files into the Hub's own cache (`HF_HOME`, `HF_HUB_CACHE`) with
`huggingface_hub.snapshot_download` and returns the snapshot folder, which `RunDir.resolve` then
treats as a read-only run, as it does a shipped model. Offline (`HF_HUB_OFFLINE=1`, or no
network) a cached snapshot is used. The repository's config.json and tokenizer.json are fetched
and checked first, so a repository that is not an mgen run is one clear error before any large
file is downloaded.

huggingface_hub is an optional dependency (`pip install 'mgen[hub]'`), imported only here and
only when a `hf:` name is used. The names of the cache's folders (`models--owner--name/
snapshots/<commit>`) are the Hub's; `hub_name` reads a run's `hf:` name back from them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mgen.core.contracts.errors import CheckpointError, ConfigError, one_line

__all__ = ["PREFIX", "download", "hub_name", "is_hub_name", "local_name", "parse"]

PREFIX = "hf:"
EXTRA = "hf: runs need the Hugging Face Hub client: pip install 'mgen[hub]'"


def is_hub_name(name: Path | str) -> bool:
    return str(name).startswith(PREFIX)


def parse(name: str) -> tuple[str, str | None]:
    """'hf:owner/name@rev' -> ('owner/name', 'rev'); a ConfigError for a malformed name."""
    repo, at, revision = name.removeprefix(PREFIX).partition("@")
    owner, slash, rest = repo.partition("/")
    if not owner or not slash or not rest or "/" in rest or (at and not revision):
        raise ConfigError(f"{name!r} is not a Hub run's name: write hf:OWNER/NAME[@REVISION]")
    return repo, revision or None


def download(name: str, identity: tuple[str, str], files: Sequence[str]) -> Path:
    """The local folder of the run `name` (hf:owner/name[@revision]) names: its `files` (those
    of them the repository has; `mgen.core.runs.artifact` names them) fetched into the Hub's
    cache, or found there offline. `identity`, the run's config and tokenizer files, are
    fetched first and checked to be mgen's, so that no other repository's weights are."""
    repo, revision = parse(name)
    hub = _client()
    first = Path(_snapshot(hub, name, repo, revision, list(identity)))
    why = _not_a_run(first / identity[0], first / identity[1])
    if why:
        raise CheckpointError(f"{name} is not an mgen run ({why})")
    # The commit found first, so that the weights come from the same one as the config.
    return Path(_snapshot(hub, name, repo, first.name, list(files)))


def _not_a_run(config_file: Path, tokenizer_file: Path) -> str | None:
    """Why these are not an mgen run's config and tokenizer, or None."""
    found = []
    for file in (config_file, tokenizer_file):
        try:
            found.append(json.loads(file.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return f"no {file.name}"
        except (OSError, UnicodeDecodeError, ValueError) as e:
            return f"cannot read {file.name}: {one_line(e, 120)}"
    config, tokenizer = found
    if not isinstance(tokenizer, dict) or not isinstance(tokenizer.get("plugin"), str):
        return f"its {tokenizer_file.name} names no mgen tokenizer plugin"
    if not isinstance(config, dict) or not isinstance(config.get("model_config"), dict):
        return f"its {config_file.name} has no mgen model_config"
    return None


def _client() -> Any:
    try:
        import huggingface_hub
        import huggingface_hub.constants
        import huggingface_hub.errors
    except ImportError:
        raise ConfigError(EXTRA) from None
    return huggingface_hub


def _snapshot(hub: Any, name: str, repo: str, revision: str | None, files: list[str]) -> str:
    """`snapshot_download` of `files`, its errors as one CheckpointError line."""
    errors = hub.errors
    try:
        return str(hub.snapshot_download(repo, revision=revision, allow_patterns=files))
    except errors.LocalEntryNotFoundError:
        raise CheckpointError(
            f"{name} is not (wholly) in the Hub cache ({hub.constants.HF_HUB_CACHE}) and the Hub cannot "
            "be reached (offline: HF_HUB_OFFLINE=1, or no network)"
        ) from None
    except errors.RevisionNotFoundError:
        raise CheckpointError(f"{name}: the Hub repository has no revision {revision}") from None
    except errors.RepositoryNotFoundError:
        raise CheckpointError(
            f"{name}: no such Hub repository, or a private or gated one without access "
            "(`huggingface-cli login`)"
        ) from None
    except (errors.HfHubHTTPError, ValueError, OSError) as e:
        raise CheckpointError(f"cannot fetch {name} from the Hub: {one_line(e, 200)}") from None


def hub_name(path: Path | str, pinned: bool = False) -> str | None:
    """The `hf:` name of a run folder in the Hub's cache (`models--owner--name/snapshots/
    <commit>`), with `@<commit>` when `pinned`; None for any other folder."""
    path = Path(path)
    snapshots, repo = path.parent, path.parent.parent.name
    if snapshots.name != "snapshots" or not repo.startswith("models--"):
        return None
    parts = repo.removeprefix("models--").split("--")  # the Hub allows no '--' in a name
    if len(parts) != 2 or not all(parts):
        return None
    return PREFIX + "/".join(parts) + (f"@{path.name}" if pinned else "")


def local_name(name: str) -> str:
    """A run's name as one folder name: 'hf:owner/name' -> 'hf-owner--name' (a shipped
    model's name is one already)."""
    return name.replace(":", "-", 1).replace("/", "--") if is_hub_name(name) else name
