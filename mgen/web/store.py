"""Generated batches on the server's disk: a private temporary folder, the newest `keep`
batches kept. Clients name a batch by the random id it was given and a sample by its number;
neither ever becomes part of a path."""

from __future__ import annotations

import shutil
import tempfile
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from mgen.core.contracts.errors import MgenError

DOWNLOADS = ("native", "midi", "musicxml")


class NotFound(MgenError):
    """A model, batch, sample or file the client named does not exist (HTTP 404)."""


@dataclass
class Batch:
    id: str
    model: str
    folder: Path
    files: list[list[Path]] = field(default_factory=list)  # per sample: native, then MIDI
    tokens: list[list[str]] = field(default_factory=list)

    def sample_files(self, index: int) -> list[Path]:
        if not isinstance(index, int) or not 1 <= index <= len(self.files):
            raise NotFound(f"batch {self.id} has samples 1 to {len(self.files)}, not {index}")
        return self.files[index - 1]

    def all_files(self) -> list[Path]:
        return [f for group in self.files for f in group]


class BatchStore:
    def __init__(self, keep: int = 200, root: Path | None = None):
        self.keep = keep
        self.root = Path(tempfile.mkdtemp(prefix="mgen-serve-", dir=root))
        self._batches: OrderedDict[str, Batch] = OrderedDict()
        self._lock = threading.Lock()

    def new(self, model: str) -> Batch:
        """An empty batch with a fresh random id and folder; the oldest past `keep` go."""
        batch_id = uuid.uuid4().hex
        folder = self.root / batch_id
        folder.mkdir(parents=True)
        batch = Batch(batch_id, model, folder)
        with self._lock:
            self._batches[batch_id] = batch
            while len(self._batches) > self.keep:
                _, old = self._batches.popitem(last=False)
                shutil.rmtree(old.folder, ignore_errors=True)
        return batch

    def get(self, batch_id: str) -> Batch:
        with self._lock:
            batch = self._batches.get(batch_id) if isinstance(batch_id, str) else None
        if batch is None:
            raise NotFound(
                f"no batch {batch_id[:40]!r} (batches are kept while the server runs, the newest {self.keep})"
            )
        return batch

    def drop(self, batch_id: str) -> None:
        with self._lock:
            batch = self._batches.pop(batch_id, None)
        if batch is not None:
            shutil.rmtree(batch.folder, ignore_errors=True)

    def close(self) -> None:
        """Delete every batch (a later `new` starts the folder again)."""
        with self._lock:
            self._batches.clear()
        shutil.rmtree(self.root, ignore_errors=True)
