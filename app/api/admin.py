"""POST /v1/admin/reload: re-scan the registry now (bearer token; off when none is set)."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from typing import Annotated

from fastapi import APIRouter, Header, Request

from app.api.deps import RegistryDep, SettingsDep
from app.errors import AdminDisabledError, UnauthorizedError
from app.schemas import ErrorResponse, ReloadResponse

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/admin", tags=["admin"])

REFUSAL_LOG_SECONDS = 10.0


class RefusalLog:
    """Logs refused admin calls at most once every REFUSAL_LOG_SECONDS, with a count of those
    not logged since: a flood of bad tokens cannot flood the log."""

    def __init__(self) -> None:
        self._next_line = 0.0
        self._unlogged = 0

    def refused(self, client: str) -> None:
        now = time.monotonic()
        if now < self._next_line:
            self._unlogged += 1
            return
        more = f" ({self._unlogged} more refused since the last line)" if self._unlogged else ""
        logger.warning("admin reload refused: bad or missing token from %s%s", client, more)
        self._unlogged = 0
        self._next_line = now + REFUSAL_LOG_SECONDS


def _refusal_log(request: Request) -> RefusalLog:
    state = request.app.state
    if not hasattr(state, "admin_refusals"):
        state.admin_refusals = RefusalLog()
    log: RefusalLog = state.admin_refusals
    return log


def _token(authorization: str | None) -> bytes:
    """The credentials of an `Authorization: Bearer <token>` header; the scheme's case is
    free (RFC 9110), b"" for any other header."""
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    return credentials.strip().encode() if scheme.lower() == "bearer" else b""


@router.post(
    "/reload",
    responses={
        401: {"model": ErrorResponse, "description": "Missing or wrong bearer token"},
        404: {"model": ErrorResponse, "description": "SERVING_ADMIN_TOKEN is not set"},
    },
    summary="Re-scan the registry for new versions now",
)
async def reload(
    request: Request,
    registry: RegistryDep,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header()] = None,
) -> ReloadResponse:
    """Load versions that appeared since the last scan (checked before they are swapped in),
    retry those that failed, and drop those removed from disk. Needs
    `Authorization: Bearer <SERVING_ADMIN_TOKEN>`."""
    if settings.admin_token is None:
        raise AdminDisabledError("The admin API is off: set SERVING_ADMIN_TOKEN to enable it.")
    expected = settings.admin_token.get_secret_value().encode()
    # Constant-time comparison: the time taken says nothing about how much of a guess was right.
    if not hmac.compare_digest(_token(authorization), expected):
        # The peer's address: X-Forwarded-For counts only from SERVING_FORWARDED_ALLOW_IPS.
        _refusal_log(request).refused(request.client.host if request.client else "unknown")
        raise UnauthorizedError("A valid 'Authorization: Bearer <token>' header is required.")
    report = await asyncio.to_thread(registry.refresh, True)
    request.app.state.sync_metrics()
    return ReloadResponse(
        loaded=report.loaded, failed=report.failed, removed=report.removed, invalid=report.invalid
    )
