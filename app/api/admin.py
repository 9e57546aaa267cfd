"""POST /v1/admin/reload: re-scan the registry now (bearer token; off when none is set)."""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Annotated

from fastapi import APIRouter, Header, Request

from app.api.deps import RegistryDep, SettingsDep
from app.errors import AdminDisabledError, UnauthorizedError
from app.schemas import ErrorResponse, ReloadResponse

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/admin", tags=["admin"])


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
    expected = f"Bearer {settings.admin_token.get_secret_value()}".encode()
    # Constant-time comparison: the time taken says nothing about how much of a guess was right.
    if not hmac.compare_digest((authorization or "").encode(), expected):
        client = request.client.host if request.client else "unknown"
        logger.warning("admin reload refused: bad or missing token from %s", client)
        raise UnauthorizedError("A valid 'Authorization: Bearer <token>' header is required.")
    report = await asyncio.to_thread(registry.refresh, True)
    request.app.state.sync_metrics()
    return ReloadResponse(
        loaded=report.loaded, failed=report.failed, removed=report.removed, invalid=report.invalid
    )
