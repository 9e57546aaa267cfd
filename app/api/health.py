"""GET /health/live, GET /health/ready (models loaded), GET /metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.api.deps import DriftDep, MetricsDep, RegistryDep
from app.errors import NotReadyError
from app.observability.payloads import PayloadLog
from app.registry.training_marker import pending_training
from app.schemas import ErrorResponse, Health, PayloadStatus

router = APIRouter(tags=["health"])


@router.get("/health/live", response_model_exclude_none=True, summary="The process answers")
async def live() -> Health:
    """200 as long as the server process is up and serving requests."""
    return Health(status="live")


@router.get(
    "/health/ready",
    response_model_exclude_none=True,
    responses={503: {"model": ErrorResponse, "description": "No model ready yet, and why"}},
    summary="At least one model is ready",
)
async def ready(registry: RegistryDep, request: Request) -> Health:
    """200 once the registry is loaded and at least one model version is ready, naming the
    models still being trained into it, and how payload capture fares; 503 with the reason
    before that."""
    broken = registry.broken()
    loaded = sum(len(versions) for versions in registry.ready().values())
    if not registry.scanned:
        raise NotReadyError("The model registry is still loading.")
    if loaded == 0:
        if broken:
            reasons = "; ".join(f"{b.name}/{b.version}: {b.reason}" for b in broken[:5])
            raise NotReadyError(f"No model version loaded: every one failed ({reasons}).")
        training = pending_training(registry.root)
        if training:
            raise NotReadyError(
                f"No model version in the registry folder yet: {len(training)} being trained."
            )
        raise NotReadyError("No model version found in the registry folder.")
    return Health(
        status="ready",
        models_ready=loaded,
        models_failed=len(broken),
        failed=[f"{b.name}/{b.version}: {b.reason}" for b in broken],
        invalid=registry.invalid(),
        training=pending_training(registry.root) or None,
        payloads=_payloads(request),
    )


def _payloads(request: Request) -> PayloadStatus | None:
    payloads: PayloadLog | None = getattr(request.app.state, "payloads", None)
    status = payloads.status() if payloads is not None else None
    return PayloadStatus.model_validate(status) if status is not None else None


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
    summary="Prometheus metrics",
)
async def metrics(metrics: MetricsDep, drift: DriftDep) -> Response:
    """Requests by model, version, endpoint and status; latency histograms; predictions by
    model and class; models loaded and their load seconds; drift per version and column. With
    several workers, all of theirs summed."""
    await drift.refresh()
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
