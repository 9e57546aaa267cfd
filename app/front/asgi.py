"""ASGI types, the request headers the layers and the protocols read, and the security headers
every response carries (the app's, and those the HTTP protocol sends itself)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]
STRICT_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")


def _page_csp(*allowed: str) -> tuple[bytes, bytes]:
    """A browser page's policy: scripts only from this origin, nothing inline but what
    `allowed` adds (in order), no forms, no base, no framing."""
    directives = ["default-src 'none'", "script-src 'self'", *allowed]
    directives += ["base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"]
    return b"content-security-policy", "; ".join(directives).encode()


# The page at / (app/web/): its own scripts, styles and images, API calls to this origin, and the
# pictures it makes itself (blob: the uploaded file, the 28x28 view); nothing inline, nothing else.
PAGE_CSP = _page_csp("style-src 'self'", "img-src 'self' blob:", "connect-src 'self'")
# Swagger UI (/docs), from the package: its icons are data: images inside its stylesheet.
SWAGGER_CSP = _page_csp("style-src 'self'", "img-src 'self' data:", "connect-src 'self'")
# ReDoc (/redoc) writes its styles into <style> elements at run time (styled-components), so
# its styles must be allowed inline; its scripts still come only from this origin, and its
# search index runs in a worker made from a blob.
REDOC_CSP = _page_csp(
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "worker-src blob:",
)
# Static files (/static/): cached, but checked again (ETag) on every use.
REVALIDATE = (b"cache-control", b"no-cache")


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
