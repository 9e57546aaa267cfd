"""The limits every request meets: its body's size and arrival time, the in-flight cap, and the
deadline, with one timer for all requests in flight."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from app.errors import (
    DeadlineExceededError,
    OverloadedError,
    PayloadTooLargeError,
    RequestTimeoutError,
)
from app.front.asgi import Receive, Scope, content_length

T = TypeVar("T")
CLOSE = {"Connection": "close"}  # the rest of the request is not read: the connection ends


class Limits:
    """Reads bodies within their limits, and runs work within the in-flight cap and deadline."""

    def __init__(
        self,
        max_body_bytes: int,
        client_timeout_seconds: float,
        max_in_flight: int,
        deadline_seconds: float,
    ) -> None:
        self.max_body_bytes = max_body_bytes
        self.client_timeout_seconds = client_timeout_seconds
        self.max_in_flight = max_in_flight
        self.deadline_seconds = deadline_seconds
        # Deadlines: one timer checks every request in flight, instead of a timer per request
        # (asyncio.timeout cost a fifth of a small request's time here).
        self._deadlines: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._check_seconds = min(max(deadline_seconds / 10, 0.01), 1.0)
        self._checking = False

    def _too_large(self) -> PayloadTooLargeError:
        error = PayloadTooLargeError(
            f"The request body is larger than the limit of {self.max_body_bytes} bytes."
        )
        error.headers = CLOSE
        return error

    async def read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole body (None when the client left first). Over the size limit: 413; not all
        there `client_timeout_seconds` after the headers: 408. No in-flight slot is held."""
        declared = content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            raise self._too_large()
        message = await receive()
        if message["type"] != "http.request":
            return None
        body: bytes = message.get("body", b"")
        if len(body) > self.max_body_bytes:  # no length was declared
            raise self._too_large()
        if not message.get("more_body", False):
            return body  # a small body comes whole with the headers: no timer needed
        chunks, size = [body], len(body)
        try:
            async with asyncio.timeout(self.client_timeout_seconds):
                while message.get("more_body", False):
                    message = await receive()
                    if message["type"] != "http.request":
                        return None
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_body_bytes:
                        raise self._too_large()
                    chunks.append(chunk)
        except TimeoutError:
            # Raised from a helper: an exception held in a local of this frame would make a
            # cycle (frame, exception, traceback) that keeps `chunks` until the next full
            # garbage collection: 12 bodies of 10 MB stayed for minutes.
            raise self._timed_out() from None
        return b"".join(chunks)

    def _timed_out(self) -> RequestTimeoutError:
        error = RequestTimeoutError(
            f"The request body did not arrive within {self.client_timeout_seconds:g} s."
        )
        error.headers = CLOSE
        return error

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

    async def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """`work()` within the in-flight cap (503 beyond it) and the deadline (504 past it,
        the work cancelled: its pool tasks still queued never start)."""
        if len(self._deadlines) >= self.max_in_flight:
            retry_after = str(max(1, math.ceil(self.deadline_seconds / 10)))
            error = OverloadedError(
                f"The server is at its limit of {self.max_in_flight} requests in flight; "
                f"retry after {retry_after} s."
            )
            error.headers = {"Retry-After": retry_after}
            raise error
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        self._deadlines[task] = loop.time() + self.deadline_seconds
        if not self._checking:
            self._checking = True
            loop.call_later(self._check_seconds, self._check_deadlines)
        try:
            return await work()
        except asyncio.CancelledError:
            if task not in self._expired:
                raise  # cancelled by someone else: the server is stopping
            task.uncancel()
            raise DeadlineExceededError(
                f"The request took longer than {self.deadline_seconds:g} s and was abandoned."
            ) from None
        finally:
            del self._deadlines[task]
            self._expired.discard(task)
