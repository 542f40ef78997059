"""What the API does, without HTTP: load a listed model, sample it, write and draw the
samples, read an uploaded primer, judge a batch. Every method here runs in a worker thread
(see `queue`); the app turns the errors below into HTTP statuses."""

from __future__ import annotations

import fnmatch
import re
import tempfile
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from mgen.core.errors import ConfigError, DataError, MgenError, one_line
from mgen.core.run import Run, load_run
from mgen.core.tokenizer import Tokenizer
from mgen.web.catalog import Catalog, ModelEntry
from mgen.web.limits import GenerateRequest, Limits
from mgen.web.queue import JobQueue
from mgen.web.store import DOWNLOADS, Batch, BatchStore, NotFound
from mgen.web.views import musicxml, primer_text, sample_view

MODELS_KEPT = 3  # loaded models kept in memory
REFERENCE_LIMIT = 40  # corpus pieces a batch is judged against (music21 reads ~6 a second)


class TooLarge(MgenError):
    """A request or upload over its limit (HTTP 413)."""


class Unsupported(MgenError):
    """An upload of a type the chosen model does not read (HTTP 415)."""


def _quiet(_: str) -> None:
    pass


def decoders() -> list[dict[str, Any]]:
    """Each decoder plugin: its name, one-line description and the options it takes."""
    from mgen.core import registry

    out = []
    for info in registry.describe("decoder"):
        try:
            options = registry.load("decoder", info.name).Options.field_names()
        except MgenError:
            continue  # a broken third-party decoder is not offered
        out.append({"name": info.name, "description": info.description, "options": list(options)})
    return out


def parse_primer(tok: Tokenizer, text: str) -> list[str]:
    """A primer's tokens as the tokenizer parses primer text: never read as a file name.
    Symbols outside the model's vocabulary are refused by name."""
    if not text:
        return []
    tokens = tok.parse_primer(text)
    vocab = tok.require_vocab()
    unknown = sorted({t for t in tokens if t not in vocab})
    if unknown:
        shown = " ".join(repr(t) for t in unknown)
        raise ConfigError(f"primer has symbols this model does not know: {shown[:200]}")
    return tokens


class Service:
    def __init__(self, roots: list[Path], limits: Limits | None = None, pretrained: bool = True):
        self.limits = limits or Limits()
        self.catalog = Catalog(roots, pretrained=pretrained)
        self.queue = JobQueue(self.limits.workers, self.limits.max_waiting)
        self.store = BatchStore()
        self._models: OrderedDict[str, Run] = OrderedDict()
        self._judges: dict[str, Any] = {}
        self._lock = threading.Lock()

    # -- models -----------------------------------------------------------------------------
    def models(self) -> list[dict[str, Any]]:
        return [e.public() for e in self.catalog.entries().values()]

    def entry(self, name: str) -> ModelEntry:
        entry = self.catalog.get(name)
        if entry is None:
            raise NotFound(f"no model named {name[:80]!r}; choose one from /api/models")
        return entry

    def load(self, name: str) -> Run:
        """The listed model `name`, loaded once and kept (the newest few)."""
        entry = self.entry(name)
        with self._lock:
            run = self._models.get(name)
            if run is None or run.path != entry.path:
                run = load_run(entry.path, "cpu")
                self._models[name] = run
                while len(self._models) > MODELS_KEPT:
                    self._models.popitem(last=False)
            self._models.move_to_end(name)
            return run

    # -- generating ---------------------------------------------------------------------------
    def check(self, req: GenerateRequest) -> None:
        """The server's own limits (they may be tighter than the request schema's)."""
        lim = self.limits
        if req.length > lim.max_length:
            raise ConfigError(f"length: must be <= {lim.max_length}")
        if req.num_samples > lim.max_samples:
            raise ConfigError(f"num_samples: must be <= {lim.max_samples}")
        if len(req.primer) > lim.max_primer_chars:
            raise ConfigError(f"primer: too long: at most {lim.max_primer_chars} characters")
        from mgen.core import registry
        from mgen.core.decoder import build_decoder

        if req.decoder not in registry.names("decoder"):
            names = ", ".join(registry.names("decoder"))
            raise ConfigError(f"decoder: no decoder {req.decoder[:50]!r} (choose from {names})")
        build_decoder(req.decoder, self.decoder_options(req))  # a wrong option is refused here
        self.entry(req.model)

    @staticmethod
    def decoder_options(req: GenerateRequest) -> dict[str, Any]:
        return {"temperature": req.temperature, "top_k": req.top_k, "top_p": req.top_p}

    def generate(self, req: GenerateRequest) -> dict[str, Any]:
        """Sample the request's model, write each sample (native and MIDI), draw each."""
        started = time.perf_counter()
        self.check(req)
        run = self.load(req.model)
        tokens = parse_primer(run.tokenizer, req.primer)
        pieces = self._sample(run, req, tokens)
        batch = self.store.new(req.model)
        try:
            problems = self._write(run, batch, pieces)
            views = [
                sample_view(i, run.tokenizer, batch.tokens[i - 1], files)
                for i, files in enumerate(batch.files, 1)
            ]
        except BaseException:
            self.store.drop(batch.id)
            raise
        return {
            "id": batch.id,
            "model": req.model,
            "settings": req.model_dump(),
            "samples": views,
            "problems": problems,
            "seconds": round(time.perf_counter() - started, 3),
        }

    def _sample(self, run: Run, req: GenerateRequest, tokens: list[str]) -> list[list[str]]:
        """`Run.sample` with primer tokens already parsed (a client's primer text must never
        be taken for a file name). A test checks that both give the same samples."""
        return run.continue_tokens(tokens, req.length, req.num_samples, req.decoder,
                                   seed=req.seed, **self.decoder_options(req))  # fmt: skip

    @staticmethod
    def _write(run: Run, batch: Batch, pieces: list[list[str]]) -> list[str]:
        """Each piece written natively and as MIDI into the batch; the failures, one a line."""
        from mgen.core.output import write_samples

        written = write_samples(run.tokenizer, pieces, batch.folder)
        for i, tokens in enumerate(pieces, 1):
            files = sorted(
                (p for p in written.paths if p.stem == f"sample-{i:03d}"),
                key=lambda p: p.suffix == ".mid",
            )
            if files:
                batch.files.append(files)
                batch.tokens.append(tokens)
        return written.problems

    # -- primer files ---------------------------------------------------------------------------
    def read_primer(self, model: str, filename: str, data: bytes) -> dict[str, Any]:
        """An uploaded file (MIDI, kern, ABC: what the model's tokenizer reads) as primer text."""
        if len(data) > self.limits.max_upload_bytes:
            raise TooLarge(f"upload: {len(data):,} bytes; at most {self.limits.max_upload_bytes:,}")
        tok = self.load(model).tokenizer
        suffix = Path(filename or "").suffix.lower()
        patterns = type(tok).file_patterns
        if not suffix or not any(fnmatch.fnmatch("x" + suffix, p.lower()) for p in patterns):
            wanted = ", ".join(p.lstrip("*") for p in patterns) or "no files"
            raise Unsupported(f"upload: this model reads {wanted}; got {suffix or 'no suffix'!r}")
        tokens = self._read_upload(tok, suffix, data)
        return self._fit_primer(tok, tokens)

    @staticmethod
    def _read_upload(tok: Tokenizer, suffix: str, data: bytes) -> list[str]:
        with tempfile.TemporaryDirectory(prefix="mgen-upload-") as tmp:
            path = Path(tmp) / f"primer{suffix}"
            path.write_bytes(data)
            try:
                pieces = tok.read(path)
            except Exception as e:  # noqa: BLE001 - a malformed file may fail in any way
                raise DataError(f"upload: cannot read this file: {one_line(e, 200)}") from None
        if not pieces or not pieces[0]:
            raise DataError("upload: the file holds no music this model reads")
        return pieces[0]

    def _fit_primer(self, tok: Tokenizer, tokens: list[str]) -> dict[str, Any]:
        """The longest start of `tokens` whose primer text fits the primer limit."""
        vocab = tok.require_vocab()
        unknown = sorted({t for t in tokens if t not in vocab})
        if unknown:
            shown = " ".join(repr(t) for t in unknown)
            raise DataError(f"upload: symbols this model does not know: {shown[:200]}")
        total, keep = len(tokens), len(tokens)
        text = primer_text(tok, tokens)
        while text is not None and len(text) > self.limits.max_primer_chars and keep > 1:
            keep = max(1, keep * self.limits.max_primer_chars // (len(text) + 1))
            text = primer_text(tok, tokens[:keep])
        if text is None:
            raise DataError("upload: this model's tokens cannot be written as primer text")
        note = "" if keep == total else f"the first {keep} of its {total} tokens (primer limit)"
        return {"primer": text, "tokens": keep, "of": total, "note": note}

    # -- downloads and judging ------------------------------------------------------------------
    def download(self, batch_id: str, index: int, kind: str) -> Path:
        """A sample's file: its native format, its MIDI, or MusicXML (made on first ask)."""
        if kind not in DOWNLOADS:
            raise NotFound(f"no download {kind[:20]!r}; choose from {', '.join(DOWNLOADS)}")
        files = self.store.get(batch_id).sample_files(index)
        midi = next((f for f in files if f.suffix == ".mid"), None)
        if kind == "native":
            return files[0]
        if kind == "midi":
            if midi is None:
                raise NotFound(f"sample {index} has no MIDI file (it could not be converted)")
            return midi
        return musicxml(files[0], midi, files[0].with_suffix(".musicxml"))

    def judge(self, batch_id: str) -> dict[str, Any]:
        """`mgen eval` of a batch against what its model trained on, corpus beside it."""
        from mgen.evaluate.report import Judge, evaluate
        from mgen.evaluate.text import rows

        batch = self.store.get(batch_id)
        run = self.load(batch.model)
        ref, index = self._reference(batch.model, run)
        report = evaluate(batch.all_files(), ref, _quiet, Judge(ref, index, run.tokenizer))
        tables = {
            fmt: {"rows": rows(figures, report["corpus"]), "validity": figures["validity"]}
            for fmt, figures in report["formats"].items()
        }
        return {
            "reference": report["reference"],
            "copy_index": report["copy_index"],
            "formats": tables,
        }

    def _reference(self, name: str, run: Run) -> tuple[Any, Any]:
        """The model's corpus reference and copy index, built once per model."""
        from mgen.core.prepare import corpus_files
        from mgen.evaluate import copies
        from mgen.evaluate.notes import reader_for
        from mgen.evaluate.report import load_reference

        key = f"{name}\0{run.path}"
        if key not in self._judges:
            tok, data = run.tokenizer, run.train_data
            index = copies.training_index(run.config, tok, _quiet)
            files = [f for f in corpus_files(tok, data, progress=False) if reader_for(f)]
            source = ", ".join(data) or f"the {run.tokenizer_name} default dataset"
            if not files:
                raise DataError(f"no readable music files in {source}")
            self._judges[key] = (load_reference(files, REFERENCE_LIMIT, source, _quiet), index)
        return self._judges[key]

    def public(self, message: str) -> str:
        """`message` without the server's own folders (batch files are named by file name)."""
        return re.sub(rf"{re.escape(str(self.store.root))}/[0-9a-f]+/", "", message)

    def close(self) -> None:
        self.store.close()
