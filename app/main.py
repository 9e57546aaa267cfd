"""create_app(settings) -> FastAPI: logging, lifespan, routers, error handlers, metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.api import admin, health, models
from app.api.fastpath import PredictFastPath
from app.batching import Batchers
from app.errors import install_error_handlers
from app.limits import RequestGuard
from app.metrics import Metrics, MetricsMiddleware
from app.registry import ModelRegistry
from app.schemas import ErrorResponse
from app.settings import Settings

logger = logging.getLogger(__name__)

DESCRIPTION = """Serves the Iris and MNIST classifiers of a versioned model registry.

Every non-2xx response has the body
`{"error": {"code": "...", "message": "...", "details": [...]}}`.
"""


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("app").setLevel(level.upper())


async def _rescan_forever(app: FastAPI, registry: ModelRegistry, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(registry.refresh)
            app.state.sync_metrics()
        except Exception:  # a failing scan must not end the loop; the next one may succeed
            logger.exception("registry re-scan failed")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The whole service, configured by `settings` (default: from SERVING_* variables)."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        registry = ModelRegistry(settings.models_dir)
        app.state.registry = registry
        await asyncio.to_thread(registry.refresh)
        sync_metrics()
        if not registry.ready():
            logger.warning(
                "no model loaded from %s: live but not ready (see the skipped versions above, "
                "or train with: python -m training --registry-dir %s)",
                settings.models_dir,
                settings.models_dir,
            )
        rescan = None
        if settings.reload_interval_seconds > 0:
            rescan = asyncio.create_task(
                _rescan_forever(app, registry, settings.reload_interval_seconds)
            )
        yield
        if rescan is not None:
            rescan.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await rescan

    def sync_metrics() -> None:
        registry: ModelRegistry = app.state.registry
        ready = registry.ready()
        metrics.models_loaded.set(sum(len(v) for v in ready.values()))
        metrics.models_failed.set(len(registry.broken()))
        for name, versions in ready.items():
            for version, model in versions.items():
                metrics.load_seconds.labels(name, str(version)).set(model.load_seconds)

    app = FastAPI(
        title="Model server",
        description=DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
        responses={422: {"model": ErrorResponse, "description": "Invalid request"}},
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.batchers = Batchers(
        settings.batching, settings.max_batch_size, settings.max_latency_ms
    )
    app.state.sync_metrics = sync_metrics
    app.state.registry = ModelRegistry(settings.models_dir)  # empty until the lifespan loads it
    install_error_handlers(app)
    app.include_router(models.router)
    app.include_router(health.router)
    app.include_router(admin.router)
    # The first added is the innermost: metrics see every response, overload and deadline ones too.
    app.add_middleware(PredictFastPath, routes=models.router.routes, state=app.state)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(
        RequestGuard,
        max_body_bytes=settings.max_body_bytes,
        max_in_flight=settings.max_in_flight,
        deadline_seconds=settings.request_timeout_seconds,
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app
