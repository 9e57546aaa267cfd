"""Annotated dependency aliases for the objects the app holds."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.observability.drift import DriftMonitor
from app.observability.metrics import Metrics
from app.registry.registry import ModelRegistry
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


async def get_drift(request: Request) -> DriftMonitor:
    drift: DriftMonitor = request.app.state.drift
    return drift


RegistryDep = Annotated[ModelRegistry, Depends(get_registry)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
DriftDep = Annotated[DriftMonitor, Depends(get_drift)]
