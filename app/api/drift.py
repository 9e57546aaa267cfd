"""GET /v1/models/{name}[/versions/{version}]/drift: how far what a version served lately is
from its training data, per input column and for the predicted class mix."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api.deps import DriftDep, RegistryDep
from app.api.models import ERRORS, ModelName, Version
from app.registry.labels import PRODUCTION

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get("/{name}/drift", responses=ERRORS, summary="Drift of the version that answers")
async def get_drift(name: ModelName, registry: RegistryDep, drift: DriftDep) -> dict[str, Any]:
    """The drift window of the version unpinned requests go to (production, else the latest):
    per input column the population stability index (null below `min_rows` rows in the window
    or when the signature records no reference), the reference and current histograms; and
    for classifiers the same for the predicted class mix."""
    production = registry.labels(name).get(PRODUCTION)
    return await drift.report(registry.get(name, production.version if production else None))


@router.get("/{name}/versions/{version}/drift", responses=ERRORS, summary="Drift of one version")
async def get_version_drift(
    name: ModelName, version: Version, registry: RegistryDep, drift: DriftDep
) -> dict[str, Any]:
    """The drift window of one version, as GET /v1/models/{name}/drift."""
    return await drift.report(registry.get(name, version))
