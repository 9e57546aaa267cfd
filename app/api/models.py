"""GET /v1/models[/{name}[/versions/{version}]], plots, and the predict routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import FileResponse

from app.api.deps import RegistryDep, Serving, label_request, serving
from app.api.fastjson import OrjsonRoute, json_response
from app.api.uploads import read_images
from app.errors import PlotNotFoundError, UnsupportedInputError
from app.imaging import MEDIA_TYPES
from app.inputs import to_batch
from app.predicting import predict
from app.registry import NAME_PATTERN, LoadedModel, ModelRegistry
from app.schemas import (
    ErrorResponse,
    FailedVersion,
    ModelList,
    ModelMetadata,
    ModelSummary,
    PredictRequest,
    PredictResponse,
)

router = APIRouter(prefix="/v1/models", tags=["models"], route_class=OrjsonRoute)

ModelName = Annotated[
    str,
    Path(pattern=NAME_PATTERN.pattern, description="Registry name", examples=["iris-svm"]),
]
Version = Annotated[int, Path(ge=1, le=2**31, description="Integer version", examples=[1])]
PlotName = Annotated[
    str,
    Path(
        pattern=r"^[a-z0-9_]{1,64}$",
        examples=["confusion_matrix"],
        description="confusion_matrix, decision_regions (Iris) or training_history (Keras)",
    ),
]
HEADLINE_METRICS = ("accuracy", "macro_f1", "cv_accuracy", "test_samples")

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "Unknown model or version"},
    503: {"model": ErrorResponse, "description": "The version failed to load"},
}
PREDICT_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    413: {"model": ErrorResponse, "description": "Too many rows or images, or too many pixels"},
    415: {"model": ErrorResponse, "description": "Unsupported content type"},
    422: {"model": ErrorResponse, "description": "Invalid rows or image, naming row and field"},
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
    latest = versions[max(versions)].metadata
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
    )


@router.get("", summary="List every model and its versions")
async def list_models(registry: RegistryDep) -> ModelList:
    """Every model in the registry: ready versions, latest, inputs, labels, headline metrics,
    and the versions that failed to load with the reason."""
    names = set(registry.ready()) | {b.name for b in registry.broken()}
    return ModelList(models=[summarize(name, registry) for name in sorted(names)])


@router.get("/{name}", responses=ERRORS, summary="Metadata of the latest version")
async def get_latest(name: ModelName, registry: RegistryDep) -> ModelMetadata:
    """The full metadata.json of the latest ready version, evaluation metrics included."""
    return registry.get(name).metadata


@router.get("/{name}/versions/{version}", responses=ERRORS, summary="Metadata of one version")
async def get_version(name: ModelName, version: Version, registry: RegistryDep) -> ModelMetadata:
    """The full metadata.json of one version, evaluation metrics included."""
    return registry.get(name, version).metadata


@router.get(
    "/{name}/versions/{version}/plots/{plot}.png",
    responses={**ERRORS, 200: {"content": {"image/png": {}}, "description": "The PNG plot"}},
    response_class=FileResponse,
    summary="A plot saved at training time",
)
async def get_plot(
    name: ModelName, version: Version, plot: PlotName, registry: RegistryDep
) -> FileResponse:
    """A PNG saved with the version: confusion_matrix, decision_regions or training_history."""
    model = registry.get(name, version)
    file_name = f"{plot}.png"
    if file_name not in model.metadata.files:
        available = sorted(f[:-4] for f in model.metadata.files if f.endswith(".png"))
        raise PlotNotFoundError(
            f"No plot '{plot}' for {name} version {version}; available: {', '.join(available)}."
        )
    return FileResponse(model.path / file_name, media_type="image/png")


def _respond(model: LoadedModel, body: dict[str, Any]) -> Response:
    return json_response(body, {"X-Model-Version": str(model.metadata.version)})


async def _predict_json(
    request: Request, body: PredictRequest, model: LoadedModel, context: Serving
) -> Response:
    label_request(request.scope, model)
    batch = to_batch(body.instances, model.metadata.input, context.settings.max_batch_rows)
    return _respond(model, await predict(model, batch, context.metrics, context.batchers))


async def _predict_image(request: Request, model: LoadedModel, context: Serving) -> Response:
    label_request(request.scope, model)
    if model.metadata.input.kind != "image":
        raise UnsupportedInputError(
            f"Model '{model.metadata.name}' takes tabular rows, not images: "
            f"POST JSON to /v1/models/{model.metadata.name}/predict."
        )
    images = await read_images(request, context.settings)
    rows = images.reshape(len(images), -1)
    return _respond(model, await predict(model, rows, context.metrics, context.batchers))


@router.post(
    "/{name}/predict",
    response_model=PredictResponse,
    responses=PREDICT_ERRORS,
    summary="Predict with the latest version",
)
async def predict_latest(name: ModelName, body: PredictRequest, request: Request) -> Response:
    """Score a batch of rows with the latest version; one prediction per row, in order."""
    context = serving(request)
    return await _predict_json(request, body, context.registry.get(name), context)


@router.post(
    "/{name}/versions/{version}/predict",
    response_model=PredictResponse,
    responses=PREDICT_ERRORS,
    summary="Predict with one version",
)
async def predict_version(
    name: ModelName, version: Version, body: PredictRequest, request: Request
) -> Response:
    """Score a batch of rows with one version; one prediction per row, in order."""
    context = serving(request)
    return await _predict_json(request, body, context.registry.get(name, version), context)


IMAGE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "array", "items": {"type": "string", "format": "binary"}}
                    },
                    "required": ["file"],
                }
            },
            **{t: {"schema": {"type": "string", "format": "binary"}} for t in MEDIA_TYPES},
        },
    }
}


@router.post(
    "/{name}/predict/image",
    response_model=PredictResponse,
    responses=PREDICT_ERRORS,
    openapi_extra=IMAGE_BODY,
    summary="Predict digits from images with the latest version",
)
async def predict_image_latest(name: ModelName, request: Request) -> Response:
    """One or more images as multipart `file` parts, or one image as the raw body.
    Any size, greyscale/RGB/RGBA, dark-on-light or light-on-dark: each is turned into an
    MNIST-style 28x28 digit first."""
    context = serving(request)
    return await _predict_image(request, context.registry.get(name), context)


@router.post(
    "/{name}/versions/{version}/predict/image",
    response_model=PredictResponse,
    responses=PREDICT_ERRORS,
    openapi_extra=IMAGE_BODY,
    summary="Predict digits from images with one version",
)
async def predict_image_version(name: ModelName, version: Version, request: Request) -> Response:
    """As /predict/image, with one version."""
    context = serving(request)
    return await _predict_image(request, context.registry.get(name, version), context)
