"""GET /v1/datasets: the datasets of the served models; GET /v1/datasets/{dataset}/comparison[.png]:
the models of a dataset side by side."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import Response

from app.api.deps import RegistryDep, SettingsDep
from app.registry.comparisons import has_comparison, read_comparison, read_plot
from app.registry.labels import PRODUCTION
from app.registry.registry import ModelRegistry
from app.schemas import DatasetList, DatasetSummary, ErrorResponse

router = APIRouter(prefix="/v1/datasets", tags=["comparisons"])

DATASET_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
Dataset = Annotated[
    str, Path(pattern=DATASET_PATTERN.pattern, description="Dataset name", examples=["mnist"])
]
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No comparison for this dataset"},
    503: {"model": ErrorResponse, "description": "The comparison's files fail their checks"},
}


def _answering_datasets(registry: ModelRegistry) -> dict[str, list[str]]:
    """Dataset -> the models whose answering version (production, else the newest) names it."""
    datasets: dict[str, list[str]] = {}
    for name, versions in sorted(registry.ready().items()):
        production = registry.labels(name).get(PRODUCTION)
        number = production.version if production and production.version in versions else None
        answering = versions[number if number is not None else max(versions)]
        datasets.setdefault(answering.metadata.dataset, []).append(name)
    return datasets


@router.get("", summary="The datasets of the served models, and which are compared")
async def list_datasets(registry: RegistryDep, settings: SettingsDep) -> DatasetList:
    """Each dataset named by the version that answers unpinned requests of a model (iris, mnist,
    or an imported model's `--dataset`), its models, and whether `python -m training compare`
    wrote its comparison (ask for only those: another is a 404)."""
    return DatasetList(
        datasets=[
            DatasetSummary(
                name=dataset,
                models=names,
                compared=DATASET_PATTERN.fullmatch(dataset) is not None
                and has_comparison(settings.models_dir, dataset, settings.allow_symlinks),
            )
            for dataset, names in sorted(_answering_datasets(registry).items())
        ]
    )


@router.get("/{dataset}/comparison", responses=ERRORS, summary="The models of a dataset compared")
async def get_comparison(dataset: Dataset, settings: SettingsDep) -> dict[str, Any]:
    """What `python -m training compare` measured for the versions that answer unpinned
    requests: each row's `task` and metrics as recorded (accuracy and macro F1, or R², MAE and
    RMSE for regressors), training and testing error, training seconds, artifact size, serving
    memory, one-row latency (median, p99) and 256-row throughput through ONNX Runtime or
    LiteRT, and which models are on their task's Pareto front of that metric against
    latency."""
    return read_comparison(settings.models_dir, dataset, settings.allow_symlinks)


@router.get(
    "/{dataset}/comparison.png",
    responses={**ERRORS, 200: {"content": {"image/png": {}}, "description": "The plot"}},
    response_class=Response,
    summary="Accuracy (or R²) against serving cost, the Pareto front marked",
)
async def get_comparison_plot(dataset: Dataset, settings: SettingsDep) -> Response:
    """The comparison's plot, served only when its bytes match the SHA-256 that
    comparison.json records."""
    content = read_plot(settings.models_dir, dataset, settings.allow_symlinks)
    return Response(content, media_type="image/png")
