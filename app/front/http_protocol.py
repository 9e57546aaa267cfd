"""uvicorn's httptools protocol with a size cap and a deadline on every request head."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from app.front.asgi import SECURITY_HEADERS, STRICT_CSP
from app.settings import Settings

logger = logging.getLogger(__name__)

# `_head_bytes` counts the bytes of the head being read; besides a count it can be:
_NO_HEAD = -1  # the head is complete: the body is being read, or the app has the request
_UNCOUNTED = -2  # a message ended inside the chunk being parsed; what follows it begins the next
# head, but the parser does not say where it ended, so those bytes are not counted (pipelining)
_NOT_TIMING = -1.0  # `_head_started` when no head is being waited for


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """Answers 431 to a request head (request line and headers) over `max_header_bytes` and 408
    to one not complete `client_timeout_seconds` after its first byte (the first request: after
    the connection opened), then closes the connection; the app never sees either request."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        settings: Settings,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._max_head_bytes = settings.max_header_bytes
        self._head_seconds = settings.client_timeout_seconds
        self._head_bytes = 0
        self._head_started = _NOT_TIMING
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # One timer per connection, re-armed only when it fires: a request costs a clock read,
        # not a call_later and a cancel.
        self._head_started = self.loop.time()
        self._head_timer = self.loop.call_later(self._head_seconds, self._check_head_deadline)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        self._stop_head_timer()  # the WebSocket protocol owns the connection from here
        super().handle_websocket_upgrade()

    # data_received and the parser hooks run for every request: they call the base class by name,
    # which costs less than super() (a tenth of a microsecond or more each, measured here).

    def data_received(self, data: bytes) -> None:
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
        HttpToolsProtocol.on_headers_complete(self)

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
        logger.info("%s %s from %s", status, code, self.client)
        # With a response under way (pipelining), another would corrupt it: just close.
        if self.cycle is None or self.cycle.response_complete:
            body = json.dumps({"error": {"code": code, "message": message}}).encode()
            headers = [
                *self.server_state.default_headers,
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *SECURITY_HEADERS,
                STRICT_CSP,
            ]
            head = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
            self.transport.write(STATUS_LINE[status] + head + b"\r\n" + body)
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
    return functools.partial(GuardedHttpToolsProtocol, settings=settings)
