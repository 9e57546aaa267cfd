"""The ASGI layers in front of FastAPI: security headers and metrics on every response, then
the dispatch of data-plane routes, which are served here, each request once.

A data-plane request is read whole first (size and time limits, no in-flight slot held while a
slow client sends), then handled within the in-flight cap and the deadline by its protocol's
handler, and any ServiceError is rendered by that protocol.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING

from app.errors import MethodNotAllowedError, ServiceError
from app.front.asgi import (
    PAGE_CSP,
    REDOC_CSP,
    REVALIDATE,
    SECURITY_HEADERS,
    STRICT_CSP,
    SWAGGER_CSP,
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    header,
)
from app.front.limits import Limits
from app.front.tokens import ApiToken
from app.observability.metrics import Metrics
from app.observability.request_ids import CURRENT, RequestContext, request_id
from app.observability.throttled_log import ThrottledLog
from app.protocols.native_codec import error_reply
from app.protocols.routing import Call, DataRoute, Reply, RouteTable

if TYPE_CHECKING:
    from app.core.dataplane import DataPlane

logger = logging.getLogger(__name__)
access = logging.getLogger("app.access")
crashes = ThrottledLog(logger, logging.ERROR)  # with a traceback: a client must not flood the log

# Probes and scrapes must answer under load: they are neither capped nor counted in flight.
UNGUARDED_PREFIXES = ("/health/", "/metrics")
# The pages a browser renders (app/web/) get a policy that lets them load their own files from
# this origin, and nothing from anywhere else; every other response gets `default-src 'none'`.
PAGE_POLICIES = {
    "/": PAGE_CSP,
    "/docs": SWAGGER_CSP,
    "/docs/oauth2-redirect": SWAGGER_CSP,
    "/redoc": REDOC_CSP,
}
STATIC_PREFIX = "/static/"
CRASH = error_reply(ServiceError("The server failed to handle this request."))


async def send_reply(send: Send, reply: Reply) -> None:
    length = (b"content-length", str(len(reply.body)).encode())
    await send(
        {"type": "http.response.start", "status": reply.status, "headers": [*reply.headers, length]}
    )
    await send({"type": "http.response.body", "body": reply.body})


class SecureFront:
    """The outermost layer: the request's id (X-Request-Id, the client's or a new one) and the
    security headers on every response, every response counted by route template and status
    (and logged, with `access_log`), and a crash answered as a 500 with those headers too."""

    def __init__(self, app: ASGIApp, metrics: Metrics, access_log: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log
        self._headers = [*SECURITY_HEADERS, STRICT_CSP]
        self._page_headers = {
            path: [*SECURITY_HEADERS, policy] for path, policy in PAGE_POLICIES.items()
        }
        cached = [REVALIDATE if pair[0] == REVALIDATE[0] else pair for pair in SECURITY_HEADERS]
        self._static_headers = [*cached, STRICT_CSP]

    def _added(self, path: str) -> list[tuple[bytes, bytes]]:
        if path.startswith(STATIC_PREFIX):
            return self._static_headers
        return self._page_headers.get(path, self._headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)  # the lifespan
            return
        started = time.perf_counter()
        added = self._added(scope["path"])
        status = 0  # nothing sent yet
        identity = request_id(header(scope, b"x-request-id"))
        echoed = (b"x-request-id", identity.encode())
        # The core reads it to capture the request (app/observability/payloads.py).
        context = CURRENT.set(RequestContext(identity, time.time(), started))

        async def send_secured(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), echoed, *added]
            await send(message)

        try:
            await self.app(scope, receive, send_secured)
        except Exception:
            if status == 0:  # FastAPI's own crash handler has logged and answered otherwise
                method, path = scope["method"], scope["path"]
                crashes.log(
                    "unhandled error on %s %s (request %s)",
                    method,
                    path,
                    identity,
                    exc_info=sys.exc_info()[1],
                )
                await send_reply(send_secured, CRASH)
        finally:
            CURRENT.reset(context)
            if self.access_log:
                self._log_access(scope, status or 500, started, identity)
            route = scope.get("route")
            state = scope.get("state", {})
            self.metrics.count_request(
                state.get("model", ""),
                state.get("version", ""),
                # Unmatched paths share one label: clients must not grow the metric set.
                getattr(route, "template", None) or getattr(route, "path", None) or "unmatched",
                str(status or 500),
                time.perf_counter() - started,
            )

    @staticmethod
    def _log_access(scope: Scope, status: int, started: float, identity: str) -> None:
        """One line a request; the path as sent, percent-encoded, without its query (never
        headers, never tokens)."""
        client = scope.get("client") or ("-", 0)
        raw_path = scope.get("raw_path")
        path = raw_path.decode("latin-1") if raw_path else ascii(scope["path"])[1:-1]
        access.info(
            '%s:%s "%s %s HTTP/%s" %d %.1f ms %s',
            client[0],
            client[1],
            scope["method"],
            path,
            scope.get("http_version", "1.1"),
            status,
            (time.perf_counter() - started) * 1000,
            identity,
        )


class Dispatch:
    """Data-plane routes served here, each request once; the rest go to FastAPI (`app`): the
    docs, the control plane, unknown routes."""

    def __init__(
        self,
        app: ASGIApp,
        routes: RouteTable,
        plane: DataPlane,
        limits: Limits,
        api_token: ApiToken | None = None,
    ) -> None:
        self.app = app
        self.routes = routes
        self.plane = plane
        self.limits = limits
        self.api_token = api_token or ApiToken(None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)  # the lifespan
            return
        path: str = scope["path"]
        found = self.routes.match(path)
        if found is not None:
            scope["route"] = found[0]
            await self._serve(*found, scope, receive, send)
        elif path.startswith(UNGUARDED_PREFIXES):
            await self.app(scope, receive, send)
        else:
            await self._control(scope, receive, send)

    async def _serve(
        self,
        route: DataRoute,
        params: dict[str, str | None],
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        call: Call | None = None
        try:
            if scope["method"] not in route.methods:
                raise MethodNotAllowedError(
                    f"Method {scope['method']} is not allowed on {scope['path']}.",
                    sorted(route.methods),
                )
            if self.api_token.protects(route.template):
                self.api_token.check(scope["headers"])  # before reading a byte of the body
            body = await self.limits.read_body(scope, receive)
            if body is None:
                return  # the client left
            call = current = Call(scope, params, body)
            if route.guarded:
                reply = await self.limits.run(lambda: route.handler(self.plane, current))
            else:
                reply = await route.handler(self.plane, current)
        except ServiceError as exc:
            reply = route.render_error(exc)
            call = None
        await send_reply(send, reply)
        for task in call.after if call is not None else ():
            task()  # queues work, never waits: the response is already on its way

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        """FastAPI's routes, within the in-flight cap and the deadline."""
        started = False

        async def send_started(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.limits.run(lambda: self.app(scope, receive, send_started))
        except ServiceError as exc:
            if started:
                raise  # the status line is gone: uvicorn closes the connection
            await send_reply(send, error_reply(exc))
