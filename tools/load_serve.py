#!/usr/bin/env python3
"""A bounded load test of `mgen serve`: N generate requests at once against a server on this
machine, while a probe asks for the page's light endpoints (the page itself, /api/status) every
quarter second to show the server stays responsive. Standard library only.

    mgen serve --runs runs/ &
    python tools/load_serve.py --url http://127.0.0.1:8000/ --requests 50

With --stream each request is a stream (POST /api/stream, one sample): the figures are then
the time to each stream's first notes, the gaps between its notes events, and how many streams
were lost (no `done`) or stalled (a gap of STALL_S or more once its notes had begun).

Prints one line of figures (and --json writes them). Only loopback addresses are accepted; the
run is bounded by --requests and --timeout and stops by itself.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urljoin, urlparse


def loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def call(url: str, body: dict | None, timeout: float) -> tuple[int, float, Any]:
    """(HTTP status, seconds, parsed JSON or None); status 0 for a connection failure."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    except (urllib.error.URLError, OSError, TimeoutError):
        return 0, time.perf_counter() - started, None
    try:
        parsed = json.loads(raw) if raw.startswith((b"{", b"[")) else None
    except ValueError:
        parsed = None
    return status, time.perf_counter() - started, parsed


STALL_S = 1.0


def stream_call(url: str, body: dict, timeout: float) -> dict[str, Any]:
    """One stream: its status, seconds to its first notes event and to its end, the gaps
    between its events, and whether it ended with `done`."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})  # fmt: skip
    started = time.perf_counter()
    out: dict[str, Any] = {"status": 0, "first_s": None, "gaps": [], "done": False}
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            out["status"], last = resp.status, None
            for raw in resp:
                line = raw.decode("utf-8", "replace").strip()
                now = time.perf_counter() - started
                if line == "event: notes":
                    out["first_s"] = now if out["first_s"] is None else out["first_s"]
                    out["gaps"] += [now - last] if last is not None else []
                    last = now
                out["done"] = out["done"] or line == "event: done"
    except urllib.error.HTTPError as e:
        out["status"] = e.code
    except (urllib.error.URLError, OSError, TimeoutError):
        pass
    out["end_s"] = time.perf_counter() - started
    return out


def run_streams(
    base: str, model: str, n: int, body: dict[str, Any], timeout: float
) -> dict[str, Any]:
    """`n` streams at once: time to first notes, gaps between notes events, lost, stalled."""
    request = {"model": model, **body, "num_samples": 1}
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(lambda _: stream_call(urljoin(base, "api/stream"), request,
                                                      timeout), range(n)))  # fmt: skip
    done = [r for r in results if r["done"]]
    firsts = [r["first_s"] for r in done if r["first_s"] is not None]
    gaps = [g for r in done for g in r["gaps"]]
    return {
        "streams": n, "done": len(done), "lost": n - len(done),
        "stalled": sum(1 for r in done if r["gaps"] and max(r["gaps"]) >= STALL_S),
        "wall_s": round(time.perf_counter() - started, 2),
        "first_notes_p50_s": _round(percentile(firsts, 0.5)),
        "first_notes_p95_s": _round(percentile(firsts, 0.95)),
        "first_notes_max_s": _round(max(firsts, default=None)),
        "gap_p50_s": _round(percentile(gaps, 0.5)), "gap_p95_s": _round(percentile(gaps, 0.95)),
        "gap_max_s": _round(max(gaps, default=None)), "settings": request,
    }  # fmt: skip


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def probe(base: str, stop: threading.Event, out: list[float], failures: list[int]) -> None:
    """GET the page and /api/status in turn every 0.25 s until `stop`."""
    paths = ["", "api/status"]
    i = 0
    while not stop.is_set():
        status, secs, _ = call(urljoin(base, paths[i % 2]), None, 10)
        (out if status == 200 else failures).append(secs if status == 200 else status)
        i += 1
        stop.wait(0.25)


def run(base: str, model: str, n: int, body: dict[str, Any], timeout: float) -> dict[str, Any]:
    request = {"model": model, **body}
    stop, probes, probe_failures = threading.Event(), [], []
    prober = threading.Thread(target=probe, args=(base, stop, probes, probe_failures), daemon=True)
    started = time.perf_counter()
    prober.start()
    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(
            pool.map(lambda _: call(urljoin(base, "api/generate"), request, timeout), range(n))
        )
    wall = time.perf_counter() - started
    stop.set()
    prober.join()
    ok = [secs for status, secs, got in results if status == 200 and got and got.get("samples")]
    statuses: dict[str, int] = {}
    for status, _, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    ids = {got["id"] for status, _, got in results if status == 200 and got}
    return {
        "requests": n, "ok": len(ok), "distinct_batches": len(ids), "lost": n - len(ok),
        "statuses": statuses, "wall_s": round(wall, 2),
        "latency_p50_s": _round(percentile(ok, 0.5)), "latency_p95_s": _round(percentile(ok, 0.95)),
        "latency_max_s": _round(max(ok, default=None)),
        "probes": len(probes), "probe_failures": len(probe_failures),
        "probe_p50_s": _round(percentile(probes, 0.5)), "probe_p95_s": _round(percentile(probes, 0.95)),
        "probe_max_s": _round(max(probes, default=None)), "settings": request,
    }  # fmt: skip


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:8000/", help="the server (loopback only)")
    ap.add_argument("--model", help="a name from /api/models (default: the first)")
    ap.add_argument("--requests", type=int, default=50, help="generate requests sent at once")
    ap.add_argument("--length", type=int, default=100, help="tokens per sample")
    ap.add_argument("--samples", type=int, default=1, help="samples per request")
    ap.add_argument("--timeout", type=float, default=600, help="seconds each request may take")
    ap.add_argument("--stream", action="store_true", help="streams (POST /api/stream) instead")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args(argv)
    base = args.url if args.url.endswith("/") else args.url + "/"
    if not loopback(base):
        ap.error(f"{base} is not a loopback address: this tool loads only a server on this machine")
    if not 1 <= args.requests <= 500:
        ap.error("--requests must be 1-500")
    status, _, listing = call(urljoin(base, "api/models"), None, 30)
    if status != 200 or not listing or not listing.get("models"):
        print(f"load_serve: no model at {base}api/models (status {status})", file=sys.stderr)
        return 2
    model = args.model or listing["models"][0]["name"]
    body = {"length": args.length, "num_samples": args.samples, "seed": 1}
    if args.stream:
        figures = run_streams(base, model, args.requests, body, args.timeout)
    else:
        figures = run(base, model, args.requests, body, args.timeout)
    print(json.dumps(figures))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(figures, f, indent=2)
    return 0 if figures["lost"] == 0 and figures.get("probe_failures", 0) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
