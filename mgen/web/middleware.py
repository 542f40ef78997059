"""What every request passes before the app sees it: a Host the server serves and, for a
change, an Origin of its own (DNS rebinding and cross-site posts refused with 403 and 421); a
body under its size limit (413) that arrives within its time limit (408); and the page's
headers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def page_headers() -> dict[str, str]:
    """The page may load only its own files (verovio's SVG carries inline styles and fonts)."""
    return {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}


#: Host names that are this machine; a server on loopback answers only to them.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class _TooLong(HTTPException):
    """Raised while the body streams in; an HTTPException so that body parsing passes it on."""

    def __init__(self, limit: int):
        super().__init__(413, f"request body over {limit:,} bytes")


class _TooSlow(HTTPException):
    def __init__(self, seconds: float):
        super().__init__(408, f"request body not received within {seconds:g} s")


class BodyLimit:
    """Pure ASGI: refuses a body over `limit` bytes, by its Content-Length or as it streams."""

    def __init__(self, app: Any, limit: int, seconds: float):
        self.app = app
        self.limit = limit
        self.seconds = seconds

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"0")
        if not declared.isdigit():
            await self._refuse(send, 400, "Content-Length is not a number")
            return
        if int(declared) > self.limit:
            await self._refuse(send)
            return
        seen, started, complete = 0, False, False
        deadline = asyncio.get_running_loop().time() + self.seconds

        async def counted() -> dict:
            nonlocal seen, complete
            if complete:  # after the body only a disconnect comes: wait for it untimed
                return await receive()
            left = deadline - asyncio.get_running_loop().time()
            try:
                message = await asyncio.wait_for(receive(), timeout=max(left, 0.001))
            except asyncio.TimeoutError:
                raise _TooSlow(self.seconds) from None
            complete = message["type"] != "http.request" or not message.get("more_body")
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLong(self.limit)
            return message

        async def sending(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except (_TooLong, _TooSlow) as e:
            if not started:
                await self._refuse(send, e.status_code, str(e.detail))

    async def _refuse(self, send: Any, status: int = 413, message: str = "") -> None:
        await refuse(send, status, message or f"request body over {self.limit:,} bytes")


async def refuse(send: Any, status: int, message: str) -> None:
    """Answer `{"error": message}` with `status`, straight from the ASGI layer."""
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


class TrustedHosts:
    """Pure ASGI: answers only requests whose Host is one this server serves (a page on
    another site that rebinds its DNS name to 127.0.0.1 sends its own name: 421), and refuses
    a change (POST ...) whose Origin is another site (a cross-site form post: 403). Scripts
    that send no Origin, such as curl, are served."""

    def __init__(self, app: Any, hosts: Iterable[str]):
        self.app = app
        self.hosts = {_bare(h) for h in hosts}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers") or []}  # fmt: skip
        host = headers.get("host", "")
        if "*" not in self.hosts and _bare(_hostname(host)) not in self.hosts:
            shown = ", ".join(sorted(self.hosts))
            await refuse(send, 421, f"Host {host[:80]!r} is not served here (served: {shown}; "
                                    "see mgen serve --allow-host)")  # fmt: skip
            return
        origin = headers.get("origin")
        cross = headers.get("sec-fetch-site") == "cross-site"
        if scope.get("method", "GET") not in SAFE_METHODS and (
            cross or (origin is not None and urlsplit(origin).netloc.lower() != host.lower())
        ):
            await refuse(send, 403, f"a request from another site ({origin or 'cross-site'}) "
                                    "may not change anything here")  # fmt: skip
            return
        await self.app(scope, receive, send)


def _hostname(host: str) -> str:
    """A Host header's name without its port (`[::1]:8000` -> `[::1]`)."""
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _bare(name: str) -> str:
    return name.strip().strip("[]").lower().rstrip(".")
