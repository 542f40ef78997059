"""The FastAPI application: the page (static files shipped in this package), its JSON API,
and the OpenAPI docs (served from the package too: nothing is fetched from the internet).

Every error is `{"error": "one clear line"}` with a 4xx status (5xx only for a bug or a busy
server); see docs/web.md for the API."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from mgen.core.contracts.errors import CheckpointError, MgenError, PluginError, one_line
from mgen.web.limits import GenerateRequest, InfillRequest, Limits, field_message
from mgen.web.middleware import LOOPBACK_HOSTS, BodyLimit, TrustedHosts, page_headers
from mgen.web.paths import scrub
from mgen.web.queue import Busy
from mgen.web.service import Service, TooLarge, Unsupported
from mgen.web.store import NotFound
from mgen.web.worker import JobLimits, TimedOut

STATIC = Path(__file__).parent / "static"
LOG = logging.getLogger("mgen.web")
STATUS: list[tuple[type[MgenError], int]] = [
    (TimedOut, 504), (NotFound, 404), (TooLarge, 413), (Unsupported, 415), (CheckpointError, 409),
    (PluginError, 422), (MgenError, 422),
]  # fmt: skip
MEDIA = {".abc": "text/vnd.abc", ".krn": "text/x-kern", ".mid": "audio/midi",
         ".musicxml": "application/vnd.recordare.musicxml+xml"}  # fmt: skip


def _error(
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    names: dict[str, str] | None = None,
) -> JSONResponse:
    """Every error the app answers: one line, no path of this machine in it (a listed model's
    folder, in `names`, by the model's name)."""
    return JSONResponse({"error": scrub(message, names)}, status_code=status, headers=headers)


def _fastapi(**kwargs: Any) -> FastAPI:
    """FastAPI with /docs served from the fastapi-offline package's own files when it is
    installed (the web extra installs it); else no /docs, whose page loads from a CDN."""
    try:
        from fastapi_offline import FastAPIOffline
    except ImportError:
        return FastAPI(docs_url=None, redoc_url=None, **kwargs)
    return FastAPIOffline(**kwargs)


def _handlers(app: FastAPI, service: Service) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, "; ".join(field_message(e) for e in exc.errors()[:5]))

    @app.exception_handler(MgenError)
    async def refused(_: Request, exc: MgenError) -> JSONResponse:
        status = next(code for cls, code in STATUS if isinstance(exc, cls))
        names = {str(e.path): f"model {n!r}" for n, e in service.catalog.entries().items()}
        return _error(status, one_line(exc, 500), names=names)

    @app.exception_handler(Busy)
    async def busy(_: Request, exc: Busy) -> JSONResponse:
        return _error(503, str(exc), {"Retry-After": "2"})

    @app.exception_handler(HTTPException)
    async def http(_: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def bug(_: Request, exc: Exception) -> JSONResponse:
        LOG.exception("unexpected error")
        return _error(500, f"internal error: {one_line(exc, 200)}")


def create_app(
    runs: Sequence[Path] = (Path("runs"),),
    limits: Limits | None = None,
    pretrained: bool = True,
    hosts: Sequence[str] = LOOPBACK_HOSTS,
    jobs: JobLimits | None = None,
    named: Mapping[str, Path] | None = None,
) -> FastAPI:
    """The whole server for models under `runs` (and the runs `named`: `catalog.named_runs`),
    with `limits` on every request, answering requests for `hosts` only ("*": any), each job
    within the time limits of `jobs`."""
    service = Service([Path(r) for r in runs], limits, pretrained, jobs, named)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        import mgen.core.sampling.engine  # noqa: F401 - torch, imported once before the first request

        service.start()
        yield
        service.close()  # every worker process and its group, on SIGTERM as on Ctrl-C

    app = _fastapi(
        title="mgen serve",
        summary="Generate symbolic music with a trained mgen model; the page at / uses this API.",
        lifespan=lifespan,
    )
    app.state.service = service
    app.add_middleware(
        BodyLimit, limit=service.limits.max_body_bytes, seconds=service.limits.body_seconds
    )
    app.add_middleware(TrustedHosts, hosts=hosts)  # added last: the outermost, first to run
    _handlers(app, service)
    _routes(app, service)
    _work_routes(app, service)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


async def _sse(events: AsyncIterator[tuple[str, Any]], names: dict[str, str]) -> AsyncIterator[str]:
    """A stream's events as server-sent events: `notes` (the notes final so far), then `done`
    (the batch, as POST /api/generate answers it) or `error` ({"error": one line})."""
    async for kind, value in events:
        if kind == "error":
            kind, value = "error", {"error": scrub(one_line(value, 500), names)}
        yield f"event: {kind}\ndata: {json.dumps(value)}\n\n"


def _routes(app: FastAPI, service: Service) -> None:
    """The page, the catalog, the queue's status and the downloads."""

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=page_headers())

    @app.get("/api/models", summary="The models to choose from: runs under --runs, shipped ones")
    async def models() -> dict[str, Any]:
        return {"models": service.models()}

    @app.get(
        "/api/options",
        summary="Decoders with their options, the server's limits, the ensembles to choose",
    )
    async def options() -> dict[str, Any]:
        from mgen import api
        from mgen.web.service import decoders

        limits = {**service.limits.to_dict(), "jobs": service.jobs.to_dict()}
        return {"decoders": decoders(), "limits": limits, "ensembles": api.ensembles()}

    @app.get("/api/status", summary="The generation queue: running, waiting, done")
    async def status() -> dict[str, Any]:
        return {"queue": service.status()}

    @app.get("/api/batches/{batch_id}/samples/{index}/{kind}", summary="native, midi or musicxml")
    async def download(batch_id: str, index: int, kind: str) -> FileResponse:
        path = await service.download(batch_id, index, kind)  # MusicXML: queued work
        name = f"mgen-{batch_id[:8]}-{index}{path.suffix}"
        return FileResponse(path, media_type=MEDIA.get(path.suffix), filename=name)


def _work_routes(app: FastAPI, service: Service) -> None:
    """What runs in a worker process: generating, infilling, reading a primer file, judging a
    batch."""

    @app.post("/api/generate", summary="Sample a batch; each sample with notation and notes")
    async def generate(req: GenerateRequest) -> dict[str, Any]:
        service.check(req)  # refusals come at once, even when the queue is full
        return await service.generate(req)

    @app.post(
        "/api/infill",
        summary="Regenerate bars (beats) of a sample: a new batch, all outside the span kept",
    )
    async def infill(req: InfillRequest) -> dict[str, Any]:
        return await service.infill(req)  # its refusals come at once, before the queue

    @app.post(
        "/api/stream",
        summary="Sample one piece, its notes sent as they come (server-sent events)",
        response_class=StreamingResponse,
    )
    async def stream(req: GenerateRequest) -> StreamingResponse:
        service.check_stream(req)
        events = await service.stream(req)  # refusals come before the first event
        names = {str(e.path): f"model {n!r}" for n, e in service.catalog.entries().items()}
        return StreamingResponse(_sse(events, names), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store",
                                          "X-Accel-Buffering": "no"})  # fmt: skip

    @app.post("/api/primer", summary="An uploaded MIDI/kern/ABC file as primer text")
    async def primer(
        model: Annotated[str, Form(max_length=200)], file: Annotated[UploadFile, File()]
    ) -> dict[str, Any]:
        service.entry(model)
        data = await file.read(service.limits.max_upload_bytes + 1)
        return await service.read_primer(model, file.filename or "", data)

    @app.get("/api/batches/{batch_id}/eval", summary="`mgen eval` of a batch, corpus beside it")
    async def judge(batch_id: str) -> dict[str, Any]:
        return await service.judge(batch_id)
