"""GET /v1/models[/{name}[/versions/{version}]] and plots: the native control plane.

The predict routes are the data plane: app/protocols/native.py."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BeforeValidator

from app.api.deps import RegistryDep
from app.core.shadow import Shadows
from app.errors import PlotNotFoundError
from app.protocols.paths import version_number
from app.registry.labels import PRODUCTION
from app.registry.registry import NAME_PATTERN, ModelRegistry
from app.registry.repository import VersionLoadError
from app.schemas import (
    ErrorResponse,
    FailedVersion,
    ModelInfo,
    ModelList,
    ModelMetadata,
    ModelSummary,
    VersionStatus,
)

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/models", tags=["models"])

ModelName = Annotated[
    str,
    Path(pattern=NAME_PATTERN.pattern, description="Registry name", examples=["iris-svm"]),
]
Version = Annotated[
    int,
    # As the data plane reads it: 01 names no version (404), not version 1.
    BeforeValidator(lambda text: version_number(text) if isinstance(text, str) else text),
    Path(ge=1, le=2**31, description="Integer version", examples=[1]),
]
PlotName = Annotated[
    str,
    Path(
        pattern=r"^[a-z0-9_]{1,64}$",
        examples=["confusion_matrix"],
        description="confusion_matrix, decision_regions (Iris) or training_history (Keras)",
    ),
]
HEADLINE_METRICS = ("accuracy", "macro_f1", "cv_accuracy", "test_samples", "mae", "rmse", "r2")

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "Unknown model or version"},
    503: {"model": ErrorResponse, "description": "The version failed to load"},
}


def summarize(name: str, registry: ModelRegistry) -> ModelSummary:
    versions = registry.ready().get(name, {})
    failed = [
        FailedVersion(version=b.version, reason=b.reason)
        for b in registry.broken()
        if b.name == name
    ]
    if not versions:
        latest_failure = max(failed, key=lambda f: f.version)
        return ModelSummary(
            name=name,
            status="failed",
            reason=latest_failure.reason,
            versions=[],
            latest_version=None,
            failed_versions=failed,
        )
    newest = versions[max(versions)]
    latest = newest.metadata
    return ModelSummary(
        name=name,
        status="ready",
        versions=sorted(versions),
        latest_version=latest.version,
        failed_versions=failed,
        dataset=latest.dataset,
        algorithm=latest.algorithm,
        framework=latest.framework,
        input=latest.input,
        class_labels=latest.class_labels,
        metrics={k: latest.metrics[k] for k in HEADLINE_METRICS if k in latest.metrics},
        labels=_labels(name, registry),
        task=newest.signature.task,
    )


@router.get("", summary="List every model and its versions")
async def list_models(registry: RegistryDep) -> ModelList:
    """Every model in the registry: ready versions, latest, inputs, labels, headline metrics,
    and the versions that failed to load with the reason."""
    names = set(registry.ready()) | {b.name for b in registry.broken()}
    return ModelList(models=[summarize(name, registry) for name in sorted(names)])


def _labels(name: str, registry: ModelRegistry) -> dict[str, dict[str, Any]]:
    return {label: target.document() for label, target in registry.labels(name).items()}


def describe(
    metadata: ModelMetadata, registry: ModelRegistry, shadows: Shadows | None = None
) -> ModelInfo:
    """A version's metadata with the state of every version of its model, its labels and
    the running agreement with its shadows."""
    statuses = [
        VersionStatus(version=str(v), state="AVAILABLE", status={"error_code": "OK"})
        for v in sorted(registry.ready().get(metadata.name, {}))
    ] + [
        VersionStatus(
            version=str(b.version),
            state="END",
            status={"error_code": "UNKNOWN", "error_message": b.reason},
        )
        for b in registry.broken()
        if b.name == metadata.name
    ]
    return ModelInfo(
        **dict(metadata),
        ready=True,
        model_version_status=statuses,
        labels=_labels(metadata.name, registry),
        shadow=shadows.summary(metadata.name) if shadows else [],
    )


@router.get("/{name}", responses=ERRORS, summary="Metadata of the version that answers")
async def get_latest(name: ModelName, registry: RegistryDep, request: Request) -> ModelInfo:
    """The full metadata.json of the version unpinned requests go to (production, else the
    latest), evaluation metrics included, with `ready` (KServe V1), `model_version_status`
    (TF Serving), the labels and the shadow agreement."""
    production = registry.labels(name).get(PRODUCTION)
    model = registry.get(name, production.version if production else None)
    return describe(model.metadata, registry, request.app.state.shadows)


@router.get("/{name}/versions/{version}", responses=ERRORS, summary="Metadata of one version")
async def get_version(
    name: ModelName, version: Version, registry: RegistryDep, request: Request
) -> ModelInfo:
    """The full metadata.json of one version, evaluation metrics included, with `ready` and
    `model_version_status`."""
    return describe(registry.get(name, version).metadata, registry, request.app.state.shadows)


@router.get(
    "/{name}/versions/{version}/plots/{plot}.png",
    responses={**ERRORS, 200: {"content": {"image/png": {}}, "description": "The PNG plot"}},
    response_class=Response,
    summary="A plot saved at training time",
)
async def get_plot(
    name: ModelName, version: Version, plot: PlotName, registry: RegistryDep
) -> Response:
    """A PNG saved with the version: confusion_matrix, decision_regions or training_history;
    served only while its bytes are those metadata.json records (links are not followed)."""
    model = registry.get(name, version)
    file_name = f"{plot}.png"
    if file_name not in model.metadata.files:
        available = sorted(f[:-4] for f in model.metadata.files if f.endswith(".png"))
        raise PlotNotFoundError(
            f"No plot '{plot}' for {name} version {version}; available: {', '.join(available)}."
        )
    try:
        content = await asyncio.to_thread(registry.read_listed_file, model, file_name)
    except (VersionLoadError, OSError) as exc:
        # Replaced, linked or rewritten since the version loaded: not the file it was.
        logger.warning("not serving %s of %s version %s: %s", file_name, name, version, exc)
        raise PlotNotFoundError(
            f"The plot '{plot}' of {name} version {version} is not the file recorded at "
            "training time."
        ) from None
    return Response(content, media_type="image/png")
