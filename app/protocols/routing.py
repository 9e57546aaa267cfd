"""What a protocol declares: its data-plane routes, each with a handler, an error renderer and
its OpenAPI operation."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.errors import ServiceError
from app.front.asgi import Scope

if TYPE_CHECKING:
    from app.core.dataplane import DataPlane


@dataclass(frozen=True)
class Reply:
    """A whole HTTP response: status, headers (content type included) and body."""

    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


@dataclass(frozen=True)
class Call:
    """A request whose body has been read: the handlers' only input. `after` holds work to
    start once the response has been sent (shadow comparisons)."""

    scope: Scope
    params: dict[str, str | None]
    body: bytes
    after: list[Callable[[], None]] = field(default_factory=list)


Handler = Callable[["DataPlane", Call], Awaitable[Reply]]
ErrorRenderer = Callable[[ServiceError], Reply]


@dataclass(frozen=True)
class DataRoute:
    """One data-plane route: `template` names it in metrics and in the OpenAPI document."""

    template: str
    methods: frozenset[str]
    handler: Handler
    render_error: ErrorRenderer
    operation: dict[str, Any]  # the OpenAPI operation object of each method
    # Probes must answer under load: unguarded routes skip the in-flight cap and the deadline.
    guarded: bool = True
    pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        # "{name}" -> a named group of one path segment; the handler checks its value.
        parts = re.split(r"\{(\w+)\}", self.template)  # literal, name, literal, ...
        regex = "".join(
            f"(?P<{part}>[^/]+)" if odd else re.escape(part)
            for odd, part in zip([False, True] * len(parts), parts, strict=False)
        )
        object.__setattr__(self, "pattern", re.compile(regex))


def _first_segment(path: str) -> str:
    return path.split("/", 2)[1] if path.startswith("/") else ""


class RouteTable:
    """The data-plane routes of every protocol, matched by path: only the routes whose path
    starts with the same segment (/v1/, /v2/) are tried, in the order given."""

    def __init__(self, routes: Iterable[DataRoute]) -> None:
        self.routes = list(routes)
        self._by_segment: dict[str, list[DataRoute]] = {}
        for route in self.routes:
            self._by_segment.setdefault(_first_segment(route.template), []).append(route)

    def match(self, path: str) -> tuple[DataRoute, dict[str, str | None]] | None:
        for route in self._by_segment.get(_first_segment(path), ()):
            found = route.pattern.fullmatch(path)
            if found is not None:
                return route, found.groupdict()
        return None

    def openapi_paths(self) -> dict[str, dict[str, Any]]:
        """The `paths` entries of these routes, for the app's OpenAPI document."""
        return {
            route.template: {method.lower(): route.operation for method in sorted(route.methods)}
            for route in self.routes
        }
