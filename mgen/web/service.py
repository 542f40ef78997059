"""What the API does, without HTTP: check a request, choose its lane, hand the work to a worker
process (`worker`, `engine`) and keep the batches it wrote (`store`).

Two lanes, each a queue (`queue.JobQueue`) in front of its worker processes: the quick lane
(`--workers` processes) takes ordinary requests; the long lane (one process, at a lower CPU
priority) takes requests whose size promises a long job, and judging. A long job therefore
never holds up the quick lane, and every job in either lane is stopped at its time limit.
A model's judge data is built by a third process in the background (`judgecache`); a judge
request waits for it at most `JobLimits.judge_wait` seconds. The app turns the errors raised
here into HTTP statuses."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

from mgen.core.contracts.errors import ConfigError, MgenError
from mgen.web.catalog import Catalog, ModelEntry
from mgen.web.engine import TooLarge, Unsupported
from mgen.web.judgecache import NotPrepared
from mgen.web.limits import GenerateRequest, InfillRequest, Limits, Sampling
from mgen.web.queue import Busy, JobQueue
from mgen.web.store import DOWNLOADS, BatchStore, NotFound
from mgen.web.worker import JobLimits, Pool, TimedOut, Worker

__all__ = ["JobLimits", "Preparing", "Service", "TooLarge", "Unsupported", "decoders"]

QUICK_WORK = 4_000  # samples x (primer characters + length): more goes to the long lane
QUICK_UPLOAD = 64 * 1024  # a primer file's bytes: more goes to the long lane
QUICK_FILE = 16 * 1024  # a sample's native file, for MusicXML: more goes to the long lane
LONG_NICE, BUILD_NICE = 5, 15  # the long lane and the builder yield the CPU to the quick lane


class Preparing(Busy):
    """A model's judge data is still being built in the background (HTTP 503, try again)."""


def decoders() -> list[dict[str, Any]]:
    """Each decoder plugin: its name, one-line description and the options it takes."""
    from mgen import api

    return api.decoders()


async def _relayed(first: tuple[str, Any], events: asyncio.Queue[tuple[str, Any]],
                   job: asyncio.Future[Any], reader: dict[str, bool]
                   ) -> AsyncIterator[tuple[str, Any]]:  # fmt: skip
    """`first`, the stream's events until its job ends, then its batch or its error. Leaving
    early (the client went away) lets the worker stop at its next token."""
    try:
        yield first
        while (item := await events.get())[0] != "end":
            yield item
        try:
            yield ("done", job.result())
        except (MgenError, Busy) as e:
            yield ("error", e)
    finally:
        reader["gone"] = True
        job.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved: not logged


class Service:
    def __init__(self, roots: list[Path], limits: Limits | None = None, pretrained: bool = True,
                 jobs: JobLimits | None = None,
                 named: Mapping[str, Path] | None = None):  # fmt: skip
        self.limits = limits or Limits()
        self.jobs = jobs or JobLimits()
        self.catalog = Catalog(roots, pretrained=pretrained, named=named)
        self.queue = JobQueue(self.limits.workers, self.limits.max_waiting)  # the quick lane
        self.long_queue = JobQueue(1, self.limits.max_waiting)
        self.quick = Pool("quick", self.limits.workers, warm=True)
        self.long = Pool("long", 1, nice=LONG_NICE, warm=True)
        self.builder = Worker("builder", nice=BUILD_NICE)
        self.store = BatchStore()
        self._builds: dict[str, tuple[concurrent.futures.Future[Any], float]] = {}

    def start(self) -> None:
        """In the server's event loop: fresh queues, and the quick lane's processes warming."""
        self.queue.reset()
        self.long_queue.reset()
        self.quick.start()

    # -- models -----------------------------------------------------------------------------
    def models(self) -> list[dict[str, Any]]:
        return [e.public() for e in self.catalog.entries().values()]

    def entry(self, name: str) -> ModelEntry:
        entry = self.catalog.get(name)
        if entry is None:
            raise NotFound(f"no model named {name[:80]!r}; choose one from /api/models")
        return entry

    # -- lanes --------------------------------------------------------------------------------
    def _lane(self, long: bool) -> tuple[JobQueue, Pool]:
        return (self.long_queue, self.long) if long else (self.queue, self.quick)

    async def _run(self, long: bool, fn: Any, *args: Any) -> Any:
        """`fn(pool, *args)` in a thread of the chosen lane's queue."""
        queue, pool = self._lane(long)
        return await queue.run(functools.partial(fn, pool), *args)

    def _call(self, pool: Pool, method: str, args: tuple[Any, ...], what: str) -> Any:
        return pool.call(method, args, self.jobs.seconds, what)

    def status(self) -> dict[str, Any]:
        """Both lanes together (what the page shows), and each lane."""
        quick, long = self.queue.status(), self.long_queue.status()
        total = {k: quick[k] + long[k] for k in quick}
        return {**total, "lanes": {"quick": quick, "long": long}}

    # -- generating ---------------------------------------------------------------------------
    def check(self, req: GenerateRequest) -> None:
        """The server's own limits (they may be tighter than the request schema's)."""
        if len(req.primer) > self.limits.max_primer_chars:
            raise ConfigError(
                f"primer: too long: at most {self.limits.max_primer_chars} characters"
            )
        if req.phrase and req.primer:
            raise ConfigError("phrase: a phrase played is the primer; leave the primer empty")
        self._check_sampling(req)

    def _check_sampling(self, req: Sampling) -> ModelEntry:
        """What every sampling request is checked for: the server's limits, the decoder and its
        options, a listed model (its entry)."""
        lim = self.limits
        if req.length > lim.max_length:
            raise ConfigError(f"length: must be <= {lim.max_length}")
        if req.num_samples > lim.max_samples:
            raise ConfigError(f"num_samples: must be <= {lim.max_samples}")
        from mgen import api

        if req.decoder is not None and req.decoder not in api.decoder_names():
            names = ", ".join(api.decoder_names())
            raise ConfigError(f"decoder: no decoder {req.decoder[:50]!r} (choose from {names})")
        options = self.decoder_options(req)
        if req.decoder is not None or any(v is not None for v in options.values()):
            api.check_decoder(req.decoder or "temperature", options)  # a wrong option is refused
        return self.entry(req.model)

    @staticmethod
    def decoder_options(req: Sampling) -> dict[str, Any]:
        return {"temperature": req.temperature, "top_k": req.top_k, "top_p": req.top_p}

    @staticmethod
    def is_long(req: GenerateRequest) -> bool:
        """Whether a request's size promises a long job: the tokens each sample is written
        and drawn with, over all samples (music21's conversions grow faster than that)."""
        return req.num_samples * (len(req.primer) + req.length) > QUICK_WORK

    async def generate(self, req: GenerateRequest) -> dict[str, Any]:
        """Sample the request's model, write each sample (native and MIDI), draw each."""
        return await self._run(self.is_long(req), self._generate, req)

    def _generate(self, pool: Pool, req: GenerateRequest, method: str = "generate",
                  on_event: Callable[[Any], bool] | None = None) -> dict[str, Any]:  # fmt: skip
        return self._batch(pool, req, method, (), on_event)

    def _batch(self, pool: Pool, req: Sampling, method: str, more: tuple[Any, ...],
               on_event: Callable[[Any], bool] | None = None) -> dict[str, Any]:  # fmt: skip
        """A new batch made by the worker's job `method` (its arguments: the model's folder,
        the request's settings, the batch's folder, then `more`), as the page shows it."""
        started = time.perf_counter()
        entry = self.entry(req.model)
        batch = self.store.new(req.model)
        args = (str(entry.path), req.model_dump(), str(batch.folder), *more)
        try:
            out = pool.call(method, args, self.jobs.seconds, "generating the batch", on_event)
        except TimedOut as e:
            self.store.drop(batch.id)
            advice = "ask for fewer samples, a shorter length or a shorter primer"
            if method == "infill":
                advice = "ask for fewer samples or a shorter length"
            raise TimedOut(f"{e}: {advice}") from None
        except BaseException:
            self.store.drop(batch.id)
            raise
        batch.files, batch.tokens = out["files"], out["tokens"]
        return {
            "id": batch.id,
            "model": req.model,
            "settings": req.model_dump(),
            "samples": out["views"],
            "problems": out["problems"],
            "grammar": out["grammar"],
            "seconds": round(time.perf_counter() - started, 3),
            **({"infill": out["infill"]} if "infill" in out else {}),
        }

    # -- infilling ------------------------------------------------------------------------------
    def check_infill(self, req: InfillRequest) -> Path:
        """`check`'s limits, a span A-B, a model trained for infilling and a sample this
        server made: that sample's native file."""
        from mgen.core.contracts.infill import parse_span

        entry = self._check_sampling(req)
        parse_span(req.bars, "bars")
        if not entry.extra.get("infills"):
            raise ConfigError(
                f"model {req.model[:80]!r} was not trained for infilling (mgen train --infill); "
                'choose one whose "infills" is true in /api/models'
            )
        return self.store.get(req.batch).sample_files(req.index)[0]

    async def infill(self, req: InfillRequest) -> dict[str, Any]:
        """A new batch: the span `req.bars` of the batch's sample regenerated by the request's
        model, everything outside it kept (`api.infill`), each sample drawn; and `infill`:
        the span, its unit and how many units each new span has."""
        native = self.check_infill(req)
        try:
            size = native.stat().st_size
        except OSError:  # its batch was deleted meanwhile (the oldest go past `keep`)
            raise NotFound(f"batch {req.batch[:40]!r} is no longer kept") from None
        long = req.num_samples * (size + req.length) > QUICK_WORK
        return await self._run(long, self._batch, req, "infill", (str(native),))

    # -- streaming ----------------------------------------------------------------------------
    def check_stream(self, req: GenerateRequest) -> None:
        """`check`, and one sample: a stream is one piece (a batch: /api/generate)."""
        self.check(req)
        if req.num_samples != 1:
            raise ConfigError(
                "num_samples: a stream is one sample (1); /api/generate makes batches"
            )

    async def stream(self, req: GenerateRequest) -> AsyncIterator[tuple[str, Any]]:
        """One sample as it is sampled: ("notes", {...}) events, then ("done", the batch as
        `generate` answers it) or ("error", MgenError). The request's own refusals (a full
        queue, a wrong setting the worker finds) are raised here, before the first event."""
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        reader = {"gone": False}

        def on_event(value: Any) -> bool:  # in the lane's thread
            loop.call_soon_threadsafe(events.put_nowait, ("notes", value))
            return not reader["gone"]

        job = asyncio.ensure_future(self._run(self.is_long(req), self._generate, req, "stream",
                                              on_event))  # fmt: skip
        job.add_done_callback(lambda _: events.put_nowait(("end", None)))
        try:
            first = await events.get()  # {"accepted", "phrase"}: the worker took the request
        except asyncio.CancelledError:  # the client went away before: the worker stops
            reader["gone"] = True
            job.add_done_callback(lambda f: f.cancelled() or f.exception())
            raise
        if first[0] == "end":
            job.result()  # its refusal
            events.put_nowait(first)  # (a stream always sends one event; never here)
        return _relayed(("start", first[1]), events, job, reader)

    # -- primer files ---------------------------------------------------------------------------
    async def read_primer(self, model: str, filename: str, data: bytes) -> dict[str, Any]:
        """An uploaded file (MIDI, kern, ABC: what the model's tokenizer reads) as primer text."""
        if len(data) > self.limits.max_upload_bytes:
            raise TooLarge(f"upload: {len(data):,} bytes; at most {self.limits.max_upload_bytes:,}")
        args = (str(self.entry(model).path), filename, data, self.limits.max_primer_chars)
        long = len(data) > QUICK_UPLOAD
        return await self._run(long, self._call, "read_primer", args, "reading the upload")

    # -- downloads and judging ------------------------------------------------------------------
    async def download(self, batch_id: str, index: int, kind: str) -> Path:
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
        out = files[0].with_suffix(".musicxml")
        if out.is_file():
            return out
        args = (str(files[0]), str(midi) if midi else None, str(out))
        try:
            long = files[0].stat().st_size > QUICK_FILE
        except OSError:  # its batch was deleted meanwhile (the oldest go past `keep`)
            raise NotFound(f"batch {batch_id[:40]!r} is no longer kept") from None
        return Path(await self._run(long, self._call, "musicxml", args, "making MusicXML"))

    async def judge(self, batch_id: str) -> dict[str, Any]:
        """`mgen eval` of a batch against what its model trained on, corpus beside it."""
        batch = self.store.get(batch_id)
        entry = self.entry(batch.model)
        args = (str(entry.path), [str(f) for f in batch.all_files()])
        try:
            return await self._run(True, self._call, "judge", args, "judging the batch")
        except NotPrepared:
            await self._built(entry)
            return await self._run(True, self._call, "judge", args, "judging the batch")

    async def _built(self, entry: ModelEntry) -> None:
        """Wait (at most `judge_wait` s) for the background build of `entry`'s judge data,
        starting one unless one is under way; Preparing when it is not done by then."""
        key = str(entry.path)
        found = self._builds.get(key)
        if found is None or found[0].done():  # none yet, or a finished one that did not help
            found = self._builds[key] = (self._build(entry), time.monotonic())
        future, since = found
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)),
                                   self.jobs.judge_wait)  # fmt: skip
        except asyncio.TimeoutError:
            raise Preparing(
                f"preparing to judge model {entry.name!r}: reading its training corpus in the "
                f"background ({time.monotonic() - since:.0f} s so far; a big corpus takes "
                "minutes the first time on a machine, then seconds); try again shortly"
            ) from None

    def _build(self, entry: ModelEntry) -> concurrent.futures.Future[Any]:
        """Build `entry`'s judge data in the builder process, from a thread of its own; the
        builder process ends after each build, so it holds no memory between builds."""
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        what = f"preparing to judge model {entry.name!r}"

        def work() -> None:
            try:
                args, limit = (str(entry.path),), self.jobs.build_seconds
                future.set_result(self.builder.call("prepare", args, limit, what, True))
            except BaseException as e:  # noqa: BLE001 - handed to whoever waits for the build
                future.set_exception(e)

        threading.Thread(target=work, name="mgen-build", daemon=True).start()
        return future

    def caches(self) -> dict[str, Any]:
        """What the long lane's worker keeps in memory (tests and measurements read it)."""
        return self.long.call("caches", (), self.jobs.seconds, "reading the caches")

    def close(self) -> None:
        """Stop every worker process (with its group) and delete the batches."""
        from mgen.evaluate import verovio_box

        for pool in (self.quick, self.long):
            pool.stop()
        self.builder.stop()
        verovio_box.shutdown()
        self.store.close()
