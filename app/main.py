"""create_app(settings) -> ModelServer: logging, lifespan, protocols, control plane, metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.api import admin, cards, comparisons, drift, health, model_docs, models
from app.api.attempts import FailedAttempts
from app.api.errors import install_error_handlers
from app.api.web import install_web
from app.core.batching import Batchers
from app.core.compute import Compute
from app.core.dataplane import DataPlane
from app.core.shadow import Shadows
from app.front.asgi import ASGIApp
from app.front.dispatch import Dispatch, SecureFront
from app.front.limits import Limits
from app.front.tokens import ApiToken
from app.observability.metrics import Metrics
from app.observability.payloads import PayloadLog
from app.protocols import native, native_docs, tfserving, v2, v2_docs
from app.protocols.routing import RouteTable
from app.registry.registry import ModelRegistry
from app.schemas import ErrorResponse
from app.settings import Settings

logger = logging.getLogger(__name__)

DESCRIPTION = """Serves the Iris and MNIST classifiers of a versioned model registry.

Every non-2xx response has the body
`{"error": {"code": "...", "message": "...", "details": [...]}}`.

Each model also has its own document, its rows and predictions typed from its signature:
`/v1/models/{name}/openapi.json`, picked in the top bar of /docs.
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


class ModelServer(FastAPI):
    """FastAPI for the docs and the control plane, behind the front that serves the data plane
    (app/front/dispatch.py): the front is the outermost layer, so every response, a crash's 500
    included, passes through it."""

    def __init__(
        self,
        *,
        routes: RouteTable,
        plane: DataPlane,
        limits: Limits,
        metrics: Metrics,
        cors_origins: list[str],
        api_token: ApiToken,
        access_log: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.data_routes = routes
        self._layers = (plane, limits, metrics, cors_origins, api_token, access_log)

    def build_middleware_stack(self) -> ASGIApp:
        plane, limits, metrics, cors_origins, api_token, access_log = self._layers
        app: ASGIApp = Dispatch(
            super().build_middleware_stack(), self.data_routes, plane, limits, api_token
        )
        if cors_origins:  # inside the front: preflights get the security headers too
            app = CORSMiddleware(
                app,
                allow_origins=cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "Inference-Header-Content-Length"],
                # What a page's script may read: V2 binary framing, the version that answered,
                # the request's id.
                expose_headers=[
                    "Inference-Header-Content-Length",
                    "X-Model-Version",
                    "X-Request-Id",
                ],
            )
        return SecureFront(app, metrics, access_log)

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is not None:  # built once, then served from FastAPI's cache
            return self.openapi_schema
        schema = super().openapi()
        schema["paths"].update(self.data_routes.openapi_paths())
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(native_docs.component_schemas())
        components.update(v2_docs.SCHEMAS)
        return schema


def create_app(settings: Settings | None = None) -> ModelServer:
    """The whole service, configured by `settings` (default: from SERVING_* variables)."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    metrics = Metrics(settings.metrics_multiprocess_dir)
    registry = ModelRegistry(settings.models_dir, settings.allow_pickle, settings.allow_symlinks)
    compute = Compute(settings.compute_workers)
    batchers = Batchers(settings.batching, settings.max_batch_size, settings.max_latency_ms)
    shadows = Shadows(metrics, settings.shadow_queue_rows)
    payloads = PayloadLog(settings, metrics)
    plane = DataPlane(registry, compute, metrics, batchers, settings, shadows, payloads)
    limits = Limits(
        settings.max_body_bytes,
        settings.client_timeout_seconds,
        settings.max_in_flight,
        settings.request_timeout_seconds,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The worker processes start while the models load.
        await asyncio.gather(compute.start(), asyncio.to_thread(registry.refresh))
        shadows.start()
        payloads.start()
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
        try:
            yield
        finally:
            if rescan is not None:
                rescan.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await rescan
            await shadows.stop()
            await payloads.stop()
            compute.close()

    def sync_metrics() -> None:
        ready = registry.ready()
        metrics.models_loaded.set(sum(len(v) for v in ready.values()))
        metrics.models_failed.set(len(registry.broken()))
        for name, versions in ready.items():
            for version, model in versions.items():
                metrics.load_seconds.labels(name, str(version)).set(model.load_seconds)

    app = ModelServer(
        routes=RouteTable([*native.ROUTES, *v2.ROUTES, *tfserving.ROUTES]),
        plane=plane,
        limits=limits,
        metrics=metrics,
        cors_origins=settings.cors_origins,
        access_log=settings.access_log,
        api_token=ApiToken(
            settings.api_token.get_secret_value() if settings.api_token is not None else None
        ),
        title="Model server",
        description=DESCRIPTION,
        # Served from the package by app/api/web.py, not from a CDN.
        docs_url=None,
        redoc_url=None,
        version="0.1.0",
        lifespan=lifespan,
        # A redirect to the slash-less path would be built from the Host header.
        redirect_slashes=False,
        # Requests are measured by our Prometheus metrics; FastAPI's OpenTelemetry hooks
        # checked their providers on every request (~20 us, a quarter of a one-row predict).
        telemetry={"tracing": False, "metrics": False, "logs": False},
        responses={422: {"model": ErrorResponse, "description": "Invalid request"}},
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.registry = registry
    app.state.shadows = shadows
    app.state.payloads = payloads
    app.state.drift = plane.drift
    app.state.sync_metrics = sync_metrics
    app.state.admin_attempts = FailedAttempts(settings.admin_attempts_per_minute)
    install_error_handlers(app)
    app.include_router(models.router)
    app.include_router(drift.router)
    app.include_router(cards.router)
    app.include_router(model_docs.router)
    app.include_router(comparisons.router)
    app.include_router(health.router)
    app.include_router(admin.router)
    install_web(app)
    return app
