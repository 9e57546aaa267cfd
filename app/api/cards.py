"""GET /v1/models/{name}/versions/{version}/card: a model card, Markdown or JSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from app.api.comparisons import DATASET_PATTERN
from app.api.deps import RegistryDep, SettingsDep
from app.api.models import ERRORS, ModelName, Version
from app.registry.comparisons import row_of
from app.registry.model_card import build_card
from app.registry.model_card_markdown import render_markdown

router = APIRouter(prefix="/v1/models", tags=["models"])

CARD_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    200: {
        "description": "The card: Markdown, or JSON with `Accept: application/json`",
        "content": {"text/markdown": {}, "application/json": {}},
    },
}


@router.get(
    "/{name}/versions/{version}/card",
    responses=CARD_RESPONSES,
    response_class=Response,
    summary="Model card of one version",
)
async def get_card(
    name: ModelName,
    version: Version,
    request: Request,
    registry: RegistryDep,
    settings: SettingsDep,
) -> Response:
    """What the version is, its data and split, test metrics with per-class figures and the
    confusion matrix, training and testing error, cost (with the serving cost from the
    dataset's comparison when it was compared), limitations and provenance; generated from
    metadata.json. Markdown unless the client accepts application/json."""
    loaded = registry.get(name, version)
    metadata = loaded.metadata
    row = None
    if _named(metadata.dataset):
        row = row_of(settings.models_dir, metadata.dataset, name, version, settings.allow_symlinks)
    card = build_card(metadata, loaded.signature, row)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(card)
    return Response(render_markdown(card), media_type="text/markdown; charset=utf-8")


def _named(dataset: str) -> bool:
    """A dataset name that is safe as a folder name (metadata is data, not a path)."""
    return DATASET_PATTERN.fullmatch(dataset) is not None
