"""GET /v1/datasets/{dataset}/comparison[.png]: the models of a dataset side by side."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import Response

from app.api.deps import SettingsDep
from app.registry.comparisons import read_comparison, read_plot
from app.schemas import ErrorResponse

router = APIRouter(prefix="/v1/datasets", tags=["comparisons"])

DATASET_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
Dataset = Annotated[
    str, Path(pattern=DATASET_PATTERN.pattern, description="Dataset name", examples=["mnist"])
]
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No comparison for this dataset"},
    503: {"model": ErrorResponse, "description": "The comparison's files fail their checks"},
}


@router.get("/{dataset}/comparison", responses=ERRORS, summary="The models of a dataset compared")
async def get_comparison(dataset: Dataset, settings: SettingsDep) -> dict[str, Any]:
    """What `python -m training compare` measured for the versions that answer unpinned
    requests: accuracy, macro F1, training and testing error, training seconds, artifact size,
    serving memory, one-row latency (median, p99) and 256-row throughput through ONNX Runtime
    or LiteRT, and which models are on the Pareto front of accuracy against latency."""
    return read_comparison(settings.models_dir, dataset, settings.allow_symlinks)


@router.get(
    "/{dataset}/comparison.png",
    responses={**ERRORS, 200: {"content": {"image/png": {}}, "description": "The plot"}},
    response_class=Response,
    summary="Accuracy against serving cost, the Pareto front marked",
)
async def get_comparison_plot(dataset: Dataset, settings: SettingsDep) -> Response:
    """The comparison's plot, served only when its bytes match the SHA-256 that
    comparison.json records."""
    content = read_plot(settings.models_dir, dataset, settings.allow_symlinks)
    return Response(content, media_type="image/png")
