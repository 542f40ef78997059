#!/usr/bin/env python3
"""A bounded load test of `mgen serve`: N generate requests at once against a server on this
machine, while a probe asks for the page's light endpoints (the page itself, /api/status) every
quarter second to show the server stays responsive. Standard library only.

    mgen serve --runs runs/ &
    python tools/load_serve.py --url http://127.0.0.1:8000/ --requests 50

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
    figures = run(base, model, args.requests, body, args.timeout)
    print(json.dumps(figures))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(figures, f, indent=2)
    return 0 if figures["lost"] == 0 and figures["probe_failures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
