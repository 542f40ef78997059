"""Sharing a run: `mgen export` copies one into a folder of its own, with `hub` a model card for
the Hugging Face Hub too (mgen.core.runs.export); a run on the Hub is then loaded by its
`hf:owner/name` wherever a run directory goes (mgen.core.runs.hub)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mgen.core.runs.export import Exported

__all__ = ["export"]


def export(
    run: Path | str,
    folder: Path | str,
    *,
    hub: bool = False,
    repo: str | None = None,
    license_id: str | None = None,
    force: bool = False,
) -> Exported:
    """Copy the run `run` names (a directory, a shipped model, hf:owner/name) into `folder`:
    the files it loads from and those that describe it, not its checkpoint nor samples. `hub`:
    a README.md model card as well, ready for `huggingface-cli upload REPO FOLDER` (`repo`,
    OWNER/NAME, is named in it; `license_id`: a Hub licence id, default `other`). A folder
    already holding files is refused unless `force`."""
    from mgen.core.runs.export import export_run

    return export_run(run, folder, hub=hub, repo=repo, license_id=license_id, force=force)
