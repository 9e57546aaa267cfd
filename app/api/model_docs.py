"""GET /v1/models/{name}[/versions/{version}]/openapi.json: one model's OpenAPI document
(app/protocols/model_openapi.py), with its stored example read from its folder."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.api.deps import RegistryDep
from app.api.models import ERRORS, ModelName, Version
from app.protocols.model_openapi import model_document
from app.registry.labels import PRODUCTION
from app.registry.registry import LoadedModel, ModelRegistry, VersionLoadError
from app.registry.signature import SignatureError
from app.registry.warmup import stored_rows

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/models", tags=["models"])

DOCUMENT: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    200: {
        "description": "An OpenAPI document of the model's predict routes",
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
}


async def _example(registry: ModelRegistry, model: LoadedModel) -> list[Any] | None:
    """The version's stored example rows, read now and checked against its recorded SHA-256;
    None when it stores none or the file is not the one recorded (rows are then made up)."""
    file_name = model.signature.example
    if file_name is None or file_name not in model.metadata.files:
        return None
    try:
        return stored_rows(await asyncio.to_thread(registry.read_listed_file, model, file_name))
    except (VersionLoadError, OSError, SignatureError) as exc:
        name, version = model.metadata.name, model.metadata.version
        logger.warning("not showing the example of %s version %s: %s", name, version, exc)
        return None


async def _document(
    registry: ModelRegistry, model: LoadedModel, request: Request, pinned: bool
) -> JSONResponse:
    rows = await _example(registry, model)
    openapi_version: str = request.app.openapi_version  # the whole server's document's
    return JSONResponse(model_document(model, rows, pinned, openapi_version))


@router.get(
    "/{name}/openapi.json",
    responses=DOCUMENT,
    response_class=JSONResponse,
    summary="OpenAPI document of one model",
)
async def get_model_openapi(
    name: ModelName, registry: RegistryDep, request: Request
) -> JSONResponse:
    """The model's predict routes, typed from the signature of the version unpinned requests
    go to (production, else the latest): each column's name, JSON type, whether it may be
    missing and the categories seen; the prediction by task; the stored example as the request
    example, in every form the route takes."""
    production = registry.labels(name).get(PRODUCTION)
    model = registry.get(name, production.version if production else None)
    return await _document(registry, model, request, pinned=False)


@router.get(
    "/{name}/versions/{version}/openapi.json",
    responses=DOCUMENT,
    response_class=JSONResponse,
    summary="OpenAPI document of one version",
)
async def get_version_openapi(
    name: ModelName, version: Version, registry: RegistryDep, request: Request
) -> JSONResponse:
    """As /v1/models/{name}/openapi.json, for one version and its pinned predict routes."""
    return await _document(registry, registry.get(name, version), request, pinned=True)
