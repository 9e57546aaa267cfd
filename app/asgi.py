"""ASGI types, and the request headers the middlewares and the predict paths read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of header `name` (lower case), or None."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def content_length(scope: Scope) -> int | None:
    """The declared body length, or None when there is none (or it is not a number)."""
    value = header(scope, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def media_type(scope: Scope) -> str:
    """The Content-Type without its parameters, lower case; "" when there is none."""
    value = header(scope, b"content-type") or b""
    return value.split(b";")[0].strip().lower().decode("latin-1")
