"""uvicorn's httptools protocol with a size cap and a deadline on every request head, a cap on
connections, and every request's bytes counted in the server's buffer budget."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from app.front.asgi import SECURITY_HEADERS, STRICT_CSP, Message, Receive, Scope, Send
from app.front.budget import BufferBudget
from app.observability.throttled_log import ThrottledLog
from app.settings import Settings

logger = logging.getLogger(__name__)
# 3,000 connections refused in a flood were 3,000 lines: one every ten seconds, with a count.
refusals = ThrottledLog(logger, logging.INFO)

# `_head_bytes` counts the bytes of the head being read; besides a count it can be:
_NO_HEAD = -1  # the head is complete: the body is being read, or the app has the request
_UNCOUNTED = -2  # a message ended inside the chunk being parsed; what follows it begins the next
# head, but the parser does not say where it ended, so those bytes are not counted (pipelining)
_NOT_TIMING = -1.0  # `_head_started` when no head is being waited for
RETRY_AFTER_SECONDS = 1  # a refusal for want of room: connections and buffers free up quickly


def _error_response(
    status: int, code: str, message: str, default_headers: list[tuple[bytes, bytes]]
) -> bytes:
    """A whole response in the standard error shape that closes the connection."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    headers = [
        *default_headers,
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *SECURITY_HEADERS,
        STRICT_CSP,
    ]
    if status == 503:
        headers.append((b"retry-after", str(RETRY_AFTER_SECONDS).encode()))
    head = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
    return STATUS_LINE[status] + head + b"\r\n" + body


def _over_budget_app(message: str) -> Any:
    """An ASGI app that answers every request 503 (Retry-After) and closes the connection."""
    body = json.dumps({"error": {"code": "overloaded", "message": message}}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"connection", b"close"),
        (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
        *SECURITY_HEADERS,
        STRICT_CSP,
    ]

    async def refuse(scope: Scope, receive: Receive, send: Send) -> None:
        start: Message = {"type": "http.response.start", "status": 503, "headers": headers}
        await send(start)
        await send({"type": "http.response.body", "body": body})

    return refuse


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """Answers 431 to a request head (request line and headers) over `max_header_bytes` and 408
    to one not complete `client_timeout_seconds` after its first byte (the first request: after
    the connection opened), then closes the connection; the app never sees either request.

    At `max_connections`, a new connection closes the one that has waited longest for a
    request head (or one idle between requests), answering it 503; when every connection has a
    request in the app, the new one is answered 503 and closed. A request's
    bytes, head and body, are reserved in the process's `budget` as they arrive (a declared body
    length as soon as the head is complete), and released when its response is complete: a
    request that does not fit is answered 503 with Retry-After and its connection closed."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        settings: Settings,
        budget: BufferBudget,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._budget = budget
        self._max_connections = settings.max_connections
        self._max_body_bytes = settings.max_body_bytes
        self._received = 0  # bytes of the current request received so far
        self._held = 0  # bytes reserved in the budget for it (at least `_received`)
        self._refused = False  # answered 503 for want of budget: the connection is closing
        self._max_head_bytes = settings.max_header_bytes
        self._head_seconds = settings.client_timeout_seconds
        self._head_bytes = 0
        self._head_started = _NOT_TIMING
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self._max_connections and not self._make_room():
            self._refuse(503, "overloaded", self._connections_message())
            return
        # One timer per connection, re-armed only when it fires: a request costs a clock read,
        # not a call_later and a cancel.
        self._head_started = self.loop.time()
        self._head_timer = self.loop.call_later(self._head_seconds, self._check_head_deadline)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        self._release()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        self._stop_head_timer()  # the WebSocket protocol owns the connection from here
        super().handle_websocket_upgrade()

    # data_received and the parser hooks run for every request: they call the base class by name,
    # which costs less than super() (a tenth of a microsecond or more each, measured here).

    def data_received(self, data: bytes) -> None:
        self._received += len(data)
        if self._received > self._held and not self._hold(self._received - self._held):
            if not self._refused:
                self._over_budget()
            return  # a refused request's bytes are dropped until its answer closes the connection
        # While a head is being read, parse no more of it than the cap allows: either the head
        # ends within that much, or it is too large, and the rest is never parsed or kept.
        while self._head_bytes >= 0 and self._head_bytes + len(data) > self._max_head_bytes:
            room = self._max_head_bytes - self._head_bytes
            HttpToolsProtocol.data_received(self, data[:room])
            if self.transport.is_closing() or self.transport.get_protocol() is not self:
                return  # refused as malformed (400), or upgraded to a WebSocket
            if self._head_bytes >= 0:
                limit = self._max_head_bytes
                self._refuse(431, "header_too_large", f"The request head is over {limit} bytes.")
                return
            if self._head_bytes == _UNCOUNTED:
                self._head_bytes = 0
            data = data[room:]
        HttpToolsProtocol.data_received(self, data)
        if self._head_bytes >= 0:  # no head ended or began in `data`: all of it was head
            self._head_bytes += len(data)
        elif self._head_bytes == _UNCOUNTED:
            self._head_bytes = 0

    def on_message_begin(self) -> None:
        HttpToolsProtocol.on_message_begin(self)
        if self.cycle is not None:  # not the first request, which is timed from the connection
            self._head_started = self.loop.time()

    def on_headers_complete(self) -> None:
        self._head_bytes = _NO_HEAD
        self._head_started = _NOT_TIMING
        declared = self._declared_body_bytes()
        wanted = self._received + declared - self._held
        if declared and wanted > 0 and not self._hold(wanted):
            # The app never sees this request: it is answered, the connection closed.
            self._refused = True
            app, self.app = self.app, _over_budget_app(self._budget_message())
            try:
                HttpToolsProtocol.on_headers_complete(self)
            finally:
                self.app = app
            return
        HttpToolsProtocol.on_headers_complete(self)

    def on_response_complete(self) -> None:
        self._release()
        HttpToolsProtocol.on_response_complete(self)

    def _declared_body_bytes(self) -> int:
        """The Content-Length sent, up to the largest body the app reads (0 when none)."""
        for name, value in self.headers:
            if name == b"content-length":
                try:
                    return min(int(value), self._max_body_bytes)
                except ValueError:
                    return 0  # httptools refuses the request (400)
        return 0

    def _connections_message(self) -> str:
        limit = self._max_connections
        return f"The server is at its limit of {limit} connections; retry later."

    def _make_room(self) -> bool:
        """At the connection cap: close the connection that has waited longest for a request
        head (else one idle between requests), so that a slow or idle client cannot keep a
        new one, such as a liveness probe, out. False when every other one is in use."""
        oldest: GuardedHttpToolsProtocol | None = None
        idle: GuardedHttpToolsProtocol | None = None
        for other in self.connections:
            if other is self or not isinstance(other, GuardedHttpToolsProtocol):
                continue
            if other.transport.is_closing():
                continue
            if other._head_started != _NOT_TIMING:
                if oldest is None or other._head_started < oldest._head_started:
                    oldest = other
            elif idle is None and other.cycle is not None and other.cycle.response_complete:
                idle = other
        if oldest is not None:
            oldest._refuse(503, "overloaded", self._connections_message())
            return True
        if idle is not None:
            idle.transport.close()  # as a keep-alive timeout would
            return True
        return False

    def _hold(self, size: int) -> bool:
        if not self._budget.reserve(size):
            return False
        self._held += size
        return True

    def _release(self) -> None:
        if self._held:
            self._budget.release(self._held)
        self._held = self._received = 0

    def _budget_message(self) -> str:
        limit = self._budget.max_bytes
        return f"The server holds its limit of {limit} bytes of requests; retry later."

    def _over_budget(self) -> None:
        """More bytes arrived than the budget has room for: refuse the request they belong to."""
        self._refused = True
        cycle = self.cycle
        if self._head_bytes == _NO_HEAD and cycle is not None and not cycle.response_started:
            # Its body is being read: it is answered here, and whatever the app might still
            # send is dropped.
            cycle.disconnected = True
            data = _error_response(
                503, "overloaded", self._budget_message(), self.server_state.default_headers
            )
            self.transport.write(data)
            self.transport.close()
            return
        self._refuse(503, "overloaded", self._budget_message())

    def on_message_complete(self) -> None:
        self._head_bytes = _UNCOUNTED
        HttpToolsProtocol.on_message_complete(self)

    def _check_head_deadline(self) -> None:
        """Refuse a head past its deadline; otherwise look again when the next could be due."""
        if self.transport.is_closing():
            self._head_timer = None
            return
        now = self.loop.time()
        if self._head_started == _NOT_TIMING:
            # A body or the app has the connection, or it idles between requests, which
            # uvicorn's keep-alive timeout bounds.
            delay = self._head_seconds
        elif self.flow.read_paused:
            # Paused by uvicorn, behind a pipelined request: the wait is ours, not the client's.
            self._head_started = now
            delay = self._head_seconds
        else:
            delay = self._head_started + self._head_seconds - now
            if delay <= 0:
                self._head_timer = None
                self._head_timed_out()
                return
        self._head_timer = self.loop.call_later(delay, self._check_head_deadline)

    def _head_timed_out(self) -> None:
        if self.cycle is None and self._head_bytes == 0:
            # Nothing was ever sent: close without answering, as after a keep-alive timeout;
            # a response no one asked for could be read as the answer to a later request.
            self.transport.close()
            return
        seconds = self._head_seconds
        message = f"The request line and headers did not arrive within {seconds:g} s."
        self._refuse(408, "request_timeout", message)

    def _refuse(self, status: int, code: str, message: str) -> None:
        """Answer `status` in the standard error shape and close the connection."""
        refusals.log("%s %s from %s", status, code, self.client)
        # With a response under way (pipelining), another would corrupt it: just close.
        if self.cycle is None or self.cycle.response_complete:
            default_headers = self.server_state.default_headers
            self.transport.write(_error_response(status, code, message, default_headers))
        self.transport.close()

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None


def http_protocol(settings: Settings) -> functools.partial[GuardedHttpToolsProtocol]:
    """The `http` argument of uvicorn that guards every connection with `settings`' limits."""
    # uvicorn builds the protocol itself, with its own arguments; the settings ride in this
    # partial. With workers > 1 uvicorn spawns processes and pickles the Config into each: a
    # partial of a module-level class pickles with its settings, where a class made at run time
    # would not unpickle, and the workers read no environment of their own.
    # The budget is one per process: every connection of this server counts in the same one.
    budget = BufferBudget(settings.max_buffered_bytes)
    return functools.partial(GuardedHttpToolsProtocol, settings=settings, budget=budget)
