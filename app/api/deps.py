"""Annotated dependency aliases for the objects the app holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from app.batching import Batchers
from app.metrics import Metrics
from app.registry import ModelRegistry
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


def serving(request: Request) -> Serving:
    """The predict routes call this instead of three dependencies: FastAPI spends more solving
    a dependency than a small model spends predicting."""
    state = request.app.state
    return Serving(state.registry, state.metrics, state.settings, state.batchers)
