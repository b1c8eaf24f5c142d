"""The portal's ASGI middlewares: security headers on every response, the plain 500 page for an
unexpected failure (never a traceback), and the request body's size limit."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request

from entries.web.portal import _error
from entries.web.security import HEADERS


class HttpMiddleware:
    """An ASGI middleware that acts on HTTP requests only: anything else (lifespan) passes straight
    through; `http` handles a request."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope, receive, send) -> None:
        raise NotImplementedError


class CatchAll(HttpMiddleware):
    """Inside the security headers: an unexpected failure becomes the plain 500 page (with the
    headers, never a traceback), its place logged without personal data (entries.core.crash)."""

    async def http(self, scope, receive, send) -> None:
        started = False

        async def tracking(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            if started:
                raise
            from entries.core import crash

            request = Request(scope)
            # Beside the portal's store (its --db), never a folder the working directory decides.
            logs = scope["app"].state.portal.db.parent / "logs"
            crash.record(exc, f"portal {request.method} {request.url.path}", logs)
            await _error(request, exc)(scope, receive, send)


class BodyLimit(HttpMiddleware):
    """Counts a request's body as it arrives (chunked uploads have no Content-Length) and stops it
    with 413 at the reader's file limit plus room for the form's other fields: nothing larger is
    ever spooled to disk."""

    async def http(self, scope, receive, send) -> None:
        limit = scope["app"].state.portal.limits.max_file_bytes + 1024 * 1024
        seen = 0

        async def counting():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(
                        413, f"The upload is larger than {limit // (1024 * 1024)} MB, the most this service reads."
                    )
            return message

        await self.app(scope, counting, send)


class SecurityHeaders(HttpMiddleware):
    """Adds the security headers (a Content-Security-Policy without inline script, no framing, no
    sniffing, no referrer, no caching) to every response, error pages included."""

    async def http(self, scope, receive, send) -> None:

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                for name, value in HEADERS.items():
                    if name.lower().encode() not in present:
                        message["headers"].append((name.lower().encode(), value.encode()))
            await send(message)

        await self.app(scope, receive, with_headers)
