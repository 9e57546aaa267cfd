"""RequestGuard: the in-flight cap, the request deadline and the security headers, in one layer."""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from starlette.exceptions import HTTPException

from app.asgi import ASGIApp, Message, Receive, Scope, Send, content_length
from app.errors import error_response

logger = logging.getLogger(__name__)

# Probes and scrapes must answer under load: they are neither capped nor counted.
UNGUARDED_PREFIXES = ("/health/", "/metrics")
# Swagger UI and ReDoc load their scripts and styles from a CDN: a strict CSP would blank them.
DOCS_PATHS = ("/docs", "/redoc", "/docs/oauth2-redirect")
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]
STRICT_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")


class RequestGuard:
    """Refuses bodies over `max_body_bytes` (413, unread), work beyond `max_in_flight`
    (503 + Retry-After), ends requests that outlive `deadline_seconds` (504, the handler
    cancelled), and adds security headers to every response."""

    def __init__(
        self, app: ASGIApp, max_body_bytes: int, max_in_flight: int, deadline_seconds: float
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_in_flight = max_in_flight
        self.deadline_seconds = deadline_seconds
        # Deadlines: one timer checks every request in flight, instead of a timer per request
        # (asyncio.timeout cost a fifth of a small request's time here).
        self._deadlines: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._check_seconds = min(max(deadline_seconds / 10, 0.01), 1.0)
        self._checking = False
        self._headers = [*SECURITY_HEADERS, STRICT_CSP]
        self._docs_headers = list(SECURITY_HEADERS)

    def _check_deadlines(self) -> None:
        """Cancel the requests past their deadline; re-arm while any request is in flight."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        for task, deadline in self._deadlines.items():
            if now >= deadline and task not in self._expired:
                self._expired.add(task)
                task.cancel()
        self._checking = bool(self._deadlines)
        if self._checking:
            loop.call_later(self._check_seconds, self._check_deadlines)

    def _limited(self, receive: Receive) -> Receive:
        """`receive`, raising 413 as soon as the streamed body passes the limit."""
        received = 0

        async def receive_with_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise HTTPException(413, self._too_large)
            return message

        return receive_with_limit

    @property
    def _too_large(self) -> str:
        return f"The request body is larger than the limit of {self.max_body_bytes} bytes."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = self._docs_headers if path in DOCS_PATHS else self._headers
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        if path.startswith(UNGUARDED_PREFIXES):
            await self.app(scope, receive, send_with_headers)
            return
        declared = content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            response = error_response(413, "payload_too_large", self._too_large)
            await response(scope, receive, send_with_headers)
            return
        if declared is None:  # a declared length is enforced by the server itself
            receive = self._limited(receive)
        if len(self._deadlines) >= self.max_in_flight:  # the requests in flight
            retry_after = str(max(1, math.ceil(self.deadline_seconds / 10)))
            response = error_response(
                503,
                "overloaded",
                f"The server is at its limit of {self.max_in_flight} requests in flight; "
                f"retry after {retry_after} s.",
                headers={"Retry-After": retry_after},
            )
            await response(scope, receive, send_with_headers)
            return
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        self._deadlines[task] = loop.time() + self.deadline_seconds
        if not self._checking:
            self._checking = True
            loop.call_later(self._check_seconds, self._check_deadlines)
        try:
            await self.app(scope, receive, send_with_headers)
        except asyncio.CancelledError:
            if task not in self._expired:
                raise  # cancelled by someone else: the server is stopping
            task.uncancel()
            if started:
                raise  # the status line is gone: uvicorn closes the connection
            logger.warning(
                "request %s %s abandoned after %.1f s", scope["method"], path, self.deadline_seconds
            )
            response = error_response(
                504,
                "deadline_exceeded",
                f"The request took longer than {self.deadline_seconds:g} s and was abandoned.",
            )
            await response(scope, receive, send_with_headers)
        finally:
            del self._deadlines[task]
            self._expired.discard(task)
