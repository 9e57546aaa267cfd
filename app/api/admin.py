"""The admin API (bearer token; off when none is set): POST /v1/admin/reload re-scans the
registry now; PUT and DELETE /v1/admin/models/{name}/labels/{label} move labels."""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request

from app.api.attempts import FailedAttempts
from app.api.deps import RegistryDep, SettingsDep
from app.errors import (
    AdminDisabledError,
    InvalidRequestError,
    LabelNotFoundError,
    RegistryNotWritableError,
    TooManyAttemptsError,
    UnauthorizedError,
)
from app.observability.throttled_log import ThrottledLog
from app.registry.labels import LABEL_PATTERN, Label, LabelsError, parse_label, write_label
from app.registry.registry import NAME_PATTERN, ModelRegistry
from app.schemas import ErrorResponse, LabelsResponse, LabelTarget, ReloadResponse

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/admin", tags=["admin"])


def _refusal_log(request: Request) -> ThrottledLog:
    state = request.app.state
    if not hasattr(state, "admin_refusals"):
        state.admin_refusals = ThrottledLog(logger, logging.WARNING)
    log: ThrottledLog = state.admin_refusals
    return log


def _token(authorization: str | None) -> bytes:
    """The credentials of an `Authorization: Bearer <token>` header; the scheme's case is
    free (RFC 9110), b"" for any other header."""
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    return credentials.strip().encode() if scheme.lower() == "bearer" else b""


ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Missing or wrong bearer token"},
    404: {"model": ErrorResponse, "description": "SERVING_ADMIN_TOKEN is not set"},
    429: {"model": ErrorResponse, "description": "Too many failed attempts from this address"},
}


async def require_admin(
    request: Request,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    """Every admin call needs `Authorization: Bearer <SERVING_ADMIN_TOKEN>`."""
    if settings.admin_token is None:
        raise AdminDisabledError("The admin API is off: set SERVING_ADMIN_TOKEN to enable it.")
    # The peer's address: X-Forwarded-For counts only from SERVING_FORWARDED_ALLOW_IPS.
    client = request.client.host if request.client else "unknown"
    attempts: FailedAttempts = request.app.state.admin_attempts
    wait = attempts.retry_after(client)
    if wait is not None:
        _refusal_log(request).log("admin call refused: too many failed attempts from %s", client)
        error = TooManyAttemptsError(
            f"Too many failed attempts from this address; retry after {wait} s."
        )
        error.headers = {"Retry-After": str(wait)}
        raise error
    expected = settings.admin_token.get_secret_value().encode()
    # Constant-time comparison: the time taken says nothing about how much of a guess was right.
    if not hmac.compare_digest(_token(authorization), expected):
        attempts.failed(client)
        _refusal_log(request).log("admin call refused: bad or missing token from %s", client)
        raise UnauthorizedError("A valid 'Authorization: Bearer <token>' header is required.")


Admin = Depends(require_admin)


@router.post(
    "/reload",
    responses=ADMIN_ERRORS,
    summary="Re-scan the registry for new versions now",
    dependencies=[Admin],
)
async def reload(request: Request, registry: RegistryDep) -> ReloadResponse:
    """Load versions that appeared since the last scan (checked before they are swapped in),
    retry those that failed, and drop those removed from disk. Needs
    `Authorization: Bearer <SERVING_ADMIN_TOKEN>`."""
    report = await asyncio.to_thread(registry.refresh, True)
    request.app.state.sync_metrics()
    return ReloadResponse(
        loaded=report.loaded, failed=report.failed, removed=report.removed, invalid=report.invalid
    )


ModelName = Annotated[str, Path(pattern=NAME_PATTERN.pattern, examples=["iris-svm"])]
LabelName = Annotated[str, Path(pattern=LABEL_PATTERN.pattern, examples=["production"])]
LABEL_ERRORS: dict[int | str, dict[str, Any]] = {
    **ADMIN_ERRORS,
    422: {"model": ErrorResponse, "description": "A target that is not a loaded version"},
    503: {"model": ErrorResponse, "description": "The registry folder cannot be written here"},
}


async def _write(
    registry: ModelRegistry, name: str, label: str, target: Label | None, by: str
) -> LabelsResponse:
    try:
        await asyncio.to_thread(write_label, registry.root / name, label, target, by)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise RegistryNotWritableError(
            f"The labels of '{name}' cannot be written in the registry folder ({reason}): "
            "change them where it is writable (python -m training promote)."
        ) from exc
    await asyncio.to_thread(registry.refresh)  # labels are re-read: this replica follows now
    labels = {key: value.document() for key, value in registry.labels(name).items()}
    return LabelsResponse(name=name, labels=labels)


@router.put(
    "/models/{name}/labels/{label}",
    responses=LABEL_ERRORS,
    summary="Point a label at a version (with a canary or a shadow)",
    dependencies=[Admin],
)
async def put_label(
    name: ModelName, label: LabelName, target: LabelTarget, registry: RegistryDep
) -> LabelsResponse:
    """Write the label into the registry folder (labels.json, with its history), so every
    replica and restart follows. The versions named must be loaded."""
    try:
        parsed = parse_label(target.model_dump(exclude_none=True))
    except LabelsError as exc:
        raise InvalidRequestError(str(exc)) from exc
    loaded = registry.ready().get(name)
    if loaded is None:
        registry.get(name)  # 404, or 503 with why no version loaded
    for version in (parsed.version, *(s.version for s in (parsed.canary, parsed.shadow) if s)):
        if version not in (loaded or {}):
            raise InvalidRequestError(
                f"Version {version} of '{name}' is not loaded (loaded: {sorted(loaded or {})})."
            )
    by = f"PUT /v1/admin/models/{name}/labels/{label}"
    return await _write(registry, name, label, parsed, by)


@router.delete(
    "/models/{name}/labels/{label}",
    responses=LABEL_ERRORS,
    summary="Remove a label",
    dependencies=[Admin],
)
async def delete_label(name: ModelName, label: LabelName, registry: RegistryDep) -> LabelsResponse:
    """Without `production`, unpinned requests go to the newest version."""
    if label not in registry.labels(name):
        registry.get(name)  # an unknown model is a 404 of its own
        raise LabelNotFoundError(f"Model '{name}' has no label '{label}'.")
    return await _write(
        registry, name, label, None, f"DELETE /v1/admin/models/{name}/labels/{label}"
    )
