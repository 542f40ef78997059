"""`mgen export RUN DIR`: a run's files, copied into a folder of their own.

The copy holds what loading the run needs and what describes it (`EXPORTED`): not the resumable
checkpoint (optimizer state, several times the weights' size) nor the samples. It loads like
any run directory (`mgen sample --run DIR`). With `hub`, a README.md is written beside them, the
model card the Hugging Face Hub reads (`mgen.core.runs.card`): the folder is then ready for
`huggingface-cli upload OWNER/NAME DIR`, after which `hf:OWNER/NAME` names the run anywhere a
run directory goes. A folder that already holds files is refused (nothing is overwritten)
unless `force`.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from mgen.core.contracts.errors import ConfigError, MgenError
from mgen.core.contracts.io import write_text
from mgen.core.runs.artifact import HUB_CARD, SHARED, RunDir
from mgen.core.runs.card import card_text
from mgen.core.runs.hub import PREFIX, parse

__all__ = ["EXPORTED", "HUB_CARD", "Exported", "export_run"]

#: The files exported, those the run has (the first three it must have).
EXPORTED = SHARED


@dataclass(frozen=True)
class Exported:
    """What `export_run` wrote."""

    source: Path  # the run's folder
    folder: Path
    files: list[Path]  # in `folder`, the card last when there is one
    card: Path | None


def export_run(
    run: Path | str,
    folder: Path | str,
    *,
    hub: bool = False,
    repo: str | None = None,
    license_id: str | None = None,
    force: bool = False,
) -> Exported:
    """Copy the run `run` names (a directory, a shipped model's name, hf:owner/name) into
    `folder`, checked whole first; with `hub`, a Hub model card as well (`repo`: the Hub
    repository it will be uploaded to, named in the card; `license_id`: a Hub licence id)."""
    _check_names(repo, license_id)
    source = RunDir.resolve(run)
    source.check_whole()
    folder = Path(folder)
    _refuse(source, folder, force)
    name = repo.rsplit("/", 1)[-1] if repo else _name(source)
    card = card_text(source, name, repo, license_id) if hub else None  # before any writing
    try:
        folder.mkdir(parents=True, exist_ok=True)
        files = [
            _copy(source.path / f, folder / f) for f in EXPORTED if (source.path / f).is_file()
        ]
    except OSError as e:
        raise MgenError(f"cannot export into {folder}: {e.strerror or e}") from None
    written = None
    if card is not None:
        written = folder / HUB_CARD
        write_text(written, card)
        files.append(written)
    return Exported(source.path, folder, files, written)


def _check_names(repo: str | None, license_id: str | None) -> None:
    if repo is not None:
        parse(PREFIX + repo)
    if license_id is not None and not re.fullmatch(r"[a-z0-9][a-z0-9.+-]*", license_id):
        raise ConfigError(
            f"--license takes a Hub licence id (mit, apache-2.0, cc-by-4.0, other, ...), got "
            f"{license_id!r}"
        )


def _refuse(source: RunDir, folder: Path, force: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder} is a file, not a folder to export into")
    if folder.is_dir() and folder.resolve() == source.path.resolve():
        raise ConfigError(f"{folder} is the run itself: export it into another folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise ConfigError(
            f"{folder} already holds files; choose an empty or new folder, or pass --force to "
            "overwrite the run's files there"
        )
    if str(folder).startswith("hf:"):
        raise ConfigError(f"{folder}: export writes a local folder; upload it with huggingface-cli")


def _copy(src: Path, dest: Path) -> Path:
    """`src` (links followed: a Hub cache's files are links) copied to `dest`, whole or not."""
    tmp = dest.with_name(f".{dest.name}.tmp")
    shutil.copyfile(src, tmp)
    tmp.replace(dest)
    return dest


def _name(source: RunDir) -> str:
    """The run's name on its card: a shipped or Hub model's name, else its folder's."""
    shipped = source.shipped_name()
    return shipped.removeprefix("hf:").rsplit("/", 1)[-1] if shipped else source.path.name
