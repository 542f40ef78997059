"""A limit on request bodies (HTTP 413 before any of it is parsed) and the page's headers."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def page_headers() -> dict[str, str]:
    """The page may load only its own files (verovio's SVG carries inline styles and fonts)."""
    return {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}


class _TooLong(HTTPException):
    """Raised while the body streams in; an HTTPException so that body parsing passes it on."""

    def __init__(self, limit: int):
        super().__init__(413, f"request body over {limit:,} bytes")


class BodyLimit:
    """Pure ASGI: refuses a body over `limit` bytes, by its Content-Length or as it streams."""

    def __init__(self, app: Any, limit: int):
        self.app = app
        self.limit = limit

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
        seen, started = 0, False

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
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
        except _TooLong:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Any, status: int = 413, message: str = "") -> None:
        text = message or f"request body over {self.limit:,} bytes"
        body = json.dumps({"error": text}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})
