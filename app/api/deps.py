"""Annotated dependency aliases for the objects the app holds."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from app.batching import Batchers
from app.metrics import Metrics
from app.registry import LoadedModel, ModelRegistry
from app.settings import Settings


async def get_registry(request: Request) -> ModelRegistry:
    registry: ModelRegistry = request.app.state.registry
    return registry


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


RegistryDep = Annotated[ModelRegistry, Depends(get_registry)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


@dataclass(frozen=True)
class Serving:
    """What a predict route uses, read straight from the app state."""

    registry: ModelRegistry
    metrics: Metrics
    settings: Settings
    batchers: Batchers

    @classmethod
    def of(cls, state: Any) -> Serving:
        """The objects held in the app's `state`."""
        return cls(state.registry, state.metrics, state.settings, state.batchers)


def serving(request: Request) -> Serving:
    """The predict routes call this instead of three dependencies: FastAPI spends more solving
    a dependency than a small model spends predicting."""
    return Serving.of(request.app.state)


def label_request(scope: MutableMapping[str, Any], model: LoadedModel) -> None:
    """Name the model and version in the request's metrics, errors included (request.state)."""
    state = scope.setdefault("state", {})
    state["model"] = model.metadata.name
    state["version"] = str(model.metadata.version)
