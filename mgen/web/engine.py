"""The work behind the API, done in a worker process (`mgen.web.worker`): load a model, sample
it, write and draw the samples, read an uploaded primer, make MusicXML, judge a batch.

A worker can be stopped at any moment (a job past its time limit is killed with its process),
so nothing here holds state the server needs: the batch folders belong to the server, which
passes paths in, and what is kept here is a cache of loaded models and of judge data, each
bounded (MODELS_KEPT, JUDGES_KEPT, least recently used first out).
"""

from __future__ import annotations

import fnmatch
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

from mgen.core.contracts.errors import MgenError, one_line

MODELS_KEPT = 3  # loaded models kept in one worker's memory
JUDGES_KEPT = 2  # models whose judge data one worker keeps (the shipped ones: ~20-60 MB each)


class TooLarge(MgenError):
    """A request or upload over its limit (HTTP 413)."""


class Unsupported(MgenError):
    """An upload of a type the chosen model does not read (HTTP 415)."""


class Cancelled(MgenError):
    """A stream stopped because its client went away (no one reads the answer)."""


def _sampling(run: Any, settings: dict[str, Any]) -> dict[str, Any]:
    """A request's settings as `api.sample`'s and `api.stream`'s keyword arguments."""
    from mgen import api

    if settings.get("phrase"):
        from mgen.api.play import phrase_primer

        played = phrase_primer(run, settings["phrase"])
        said = {"bpm": played.bpm, "beats": played.beats, "seconds": played.seconds}
        return {**_sampling(run, {**settings, "phrase": []}), "primer": played.tokens,
                "phrase_played": said}  # fmt: skip
    return {
        "primer": api.primer_tokens(run, settings["primer"], web=True),
        "seed": settings["seed"],
        "grammar": settings["grammar"],
        "instruments": settings.get("instruments") or None,
        "controls": {k: settings.get(k) for k in ("key", "meter", "tempo")},
        "guidance": settings.get("guidance"),
        **{k: settings[k] for k in ("temperature", "top_k", "top_p")},
    }


def _reads(run: Any, suffix: str, what: str) -> None:
    """Unsupported unless the run's tokenizer reads files ending in `suffix` (".abc")."""
    patterns = run.tokenizer.format.patterns
    if not suffix or not any(fnmatch.fnmatch("x" + suffix, p.lower()) for p in patterns):
        wanted = ", ".join(p.lstrip("*") for p in patterns) or "no files"
        raise Unsupported(f"{what}: this model reads {wanted}; got {suffix or 'no suffix'!r}")


def _drawn(run: Any, result: Any) -> dict[str, Any]:
    """A written batch as the page shows it: {"views", "problems", "files", "tokens", "grammar"}."""
    from mgen.web.views import sample_view

    kept = result.by_sample()
    views = [
        sample_view(i, run.tokenizer, piece, files) for i, (piece, files) in enumerate(kept, 1)
    ]
    return {"views": views, "problems": result.written.problems,
            "files": [files for _, files in kept], "tokens": [piece for piece, _ in kept],
            "grammar": result.grammar.to_dict() if result.grammar else None}  # fmt: skip


class Engine:
    """One worker's models and judge data, and the jobs the server sends it by name."""

    JOBS = ("generate", "stream", "infill", "read_primer", "musicxml", "judge", "prepare",
            "caches")  # fmt: skip

    def __init__(self, conn: Any = None) -> None:
        self.conn = conn  # the socket to the server: a streaming job's events go on it
        self._models: OrderedDict[str, Any] = OrderedDict()  # run path -> mgen Run
        self._judges: OrderedDict[str, Any] = OrderedDict()  # cache key -> JudgeData

    def handle(self, request: tuple[str, tuple[Any, ...]]) -> tuple[Any, ...]:
        """("ok", value), ("error", MgenError subclass, message) or ("bug", message)."""
        method, args = request
        if method not in self.JOBS:
            return ("bug", f"no job {method!r}")
        try:
            return ("ok", getattr(self, method)(*args))
        except MgenError as e:
            return ("error", type(e), one_line(e, 500))
        except Exception as e:  # noqa: BLE001 - a bug: logged here, a 500 for the client
            import traceback

            traceback.print_exc()
            return ("bug", f"{type(e).__name__}: {one_line(e, 200)}")

    def load(self, path: str) -> Any:
        """The run at `path`, loaded once and kept (the newest MODELS_KEPT)."""
        from mgen import api

        run = self._models.get(path)
        if run is None:
            run = self._models[path] = api.load_run(Path(path), "cpu")
            while len(self._models) > MODELS_KEPT:
                self._models.popitem(last=False)
        self._models.move_to_end(path)
        return run

    # -- generating ---------------------------------------------------------------------------
    def generate(self, path: str, settings: dict[str, Any], folder: str) -> dict[str, Any]:
        """Sample the model at `path`, write each sample into `folder` (native and MIDI) and
        draw each: {"views", "problems", "files": [[native, midi]...], "tokens"}."""
        from mgen import api

        run = self.load(path)
        asked = _sampling(run, settings)
        asked.pop("phrase_played", None)
        result = api.sample(run, settings["length"], settings["num_samples"],
                            settings["decoder"], out=Path(folder), **asked)  # fmt: skip
        return _drawn(run, result)

    def stream(self, path: str, settings: dict[str, Any], folder: str) -> dict[str, Any]:
        """`generate` for one sample, its notes sent as they come: an event {"accepted"} once
        the request is checked, then {"notes", "note_tracks", "drums", "tokens"} events (see
        `views.live_notes`); the parent's CANCEL stops it (Cancelled)."""
        from mgen import api

        run = self.load(path)
        asked = _sampling(run, settings)
        said = asked.pop("phrase_played", None)
        events = api.stream(run, settings["length"], settings["decoder"], **asked)
        self.emit({"accepted": True, "phrase": said})
        finished = self._relay(events)
        if finished is None:
            raise Cancelled("the stream was stopped: its client went away")
        return _drawn(run, api.write(run, [finished.piece], Path(folder)))

    def infill(
        self, path: str, settings: dict[str, Any], folder: str, native: str
    ) -> dict[str, Any]:
        """The span `settings["bars"]` of the sample file `native` regenerated by the model at
        `path` (trained with --infill), all outside it kept, each new sample written into
        `folder` and drawn as `generate` draws them; and "infill": the span, its unit ("bars"
        or "beats") and how many units each new span has (`units`, per sample shown)."""
        from mgen import api
        from mgen.core.contracts.infill import unit

        run = self.load(path)
        _reads(run, Path(native).suffix, f"sample {settings['index']}")
        options = {k: settings[k] for k in ("temperature", "top_k", "top_p")}
        result, units = api.infill(run, native, settings["bars"], settings["length"],
                                   settings["num_samples"], settings["decoder"],
                                   seed=settings["seed"], grammar=settings["grammar"],
                                   out=Path(folder), **options)  # fmt: skip
        drawn = _drawn(run, result)
        shown = [any(p is q for q in drawn["tokens"]) for p in result.pieces]
        said = {"batch": settings["batch"], "index": settings["index"], "span": settings["bars"],
                "unit": f"{unit(run.tokenizer)}s",
                "units": [u for u, kept in zip(units, shown, strict=True) if kept]}  # fmt: skip
        return {**drawn, "infill": said}

    def _relay(self, events: Any) -> Any:
        """Send the stream's notes as events, a burst at a time; its Finished, or None when
        the parent cancelled it."""
        from mgen import api
        from mgen.web.views import live_notes

        notes: list[Any] = []
        sampled = 0  # tokens so far
        for event in events:
            if isinstance(event, api.Note):
                notes.append(event)
                continue
            if notes:
                self.emit(live_notes(notes, sampled))
                notes = []
            if isinstance(event, api.Finished):
                return event
            sampled = event.index + 1
            if self.cancelled():
                events.close()
                return None
        return None

    def emit(self, value: Any) -> None:
        """An event to the parent, before the job's answer (a job that streams)."""
        if self.conn is not None:
            self.conn.send(("event", value))

    def cancelled(self) -> bool:
        """Whether the parent asked the running job to stop (CANCEL waiting on the socket)."""
        from mgen.evaluate.verovio_box import CANCEL

        if self.conn is None or not self.conn.poll():
            return False
        return self.conn.recv() == CANCEL

    # -- primer files ---------------------------------------------------------------------------
    def read_primer(self, path: str, filename: str, data: bytes, max_chars: int) -> dict[str, Any]:
        """An uploaded file (MIDI, kern, ABC: what the model's tokenizer reads) as primer text."""
        from mgen import api

        run = self.load(path)
        suffix = Path(filename or "").suffix.lower()
        _reads(run, suffix, "upload")
        return api.upload_primer(run, suffix, data, max_chars).to_dict()

    # -- MusicXML and judging -------------------------------------------------------------------
    def musicxml(self, native: str, midi: str | None, out: str) -> str:
        from mgen.web.views import musicxml

        return str(musicxml(Path(native), Path(midi) if midi else None, Path(out)))

    def judge(self, path: str, files: list[str]) -> dict[str, Any]:
        """`mgen eval` of `files` against what the run at `path` trained on, corpus beside it.
        NotPrepared when its judge data is not built yet (the server builds it elsewhere)."""
        from mgen import api

        src, data = self._judge_data(Path(path))
        index = data.index()  # it goes when this judgement ends
        judged = api.judge_against(files, data.reference, index, src.tokenizer)
        return {"reference": judged["reference"], "copy_index": judged["copy_index"],
                "formats": judged.tables()}  # fmt: skip

    def _judge_data(self, path: Path) -> tuple[Any, Any]:
        """The run's judge inputs and its JudgeData: kept in memory (the newest JUDGES_KEPT),
        else read from the disk cache the background builder wrote."""
        from mgen.web import judgecache

        src = judgecache.source(path)
        data = self._judges.get(src.key)
        if data is None:
            data = self._judges[src.key] = judgecache.load(src)
            while len(self._judges) > JUDGES_KEPT:
                self._judges.popitem(last=False)
        self._judges.move_to_end(src.key)
        return src, data

    def prepare(self, path: str) -> dict[str, Any]:
        """Build the judge data of the run at `path` onto disk (the background builder's job)."""
        from mgen.web import judgecache

        return judgecache.prepare(Path(path))

    def caches(self) -> dict[str, Any]:
        """What this worker keeps, and its resident memory (for tests and measurements)."""
        return {"models": list(self._models), "judges": list(self._judges), "rss_mb": rss_mb()}


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process in MB (Linux /proc; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            kb = next(int(ln.split()[1]) for ln in f if ln.startswith("VmRSS:"))
    except (OSError, StopIteration, ValueError):
        return 0.0
    return round(kb / 1024, 1)


def serve(conn: Any, parent: int, nice: str = "0", warm: str = "0") -> None:
    """A worker process's main (started by `mgen.web.worker`): answer jobs until the server
    hangs up. Ctrl-C in a terminal is for the server, which stops its workers itself. With
    `warm`, torch is imported first, before the first job asks for it."""
    import signal

    from mgen.evaluate.verovio_box import answer, watch_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch_parent(parent, group=True)
    if int(nice):
        os.nice(int(nice))  # long jobs and background builds yield the CPU to quick ones
    if int(warm):
        from mgen import api

        api.warm()
    engine = Engine(conn)
    answer(conn, engine.handle)
