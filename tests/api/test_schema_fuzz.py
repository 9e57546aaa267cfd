"""Schemathesis, bounded: requests generated from the app's own OpenAPI schema never get a 5xx."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from app.main import create_app
from app.settings import Settings

# Schemathesis ships sample files for PNG, JPEG, GIF and WebP; BMP bodies are sent as raw bytes.
schemathesis.serializer.alias("image/bmp", "application/octet-stream")

# The schema does not depend on the models: read it from an app with an empty registry.
# (schemathesis.pytest.from_fixture would be lazier, but it does not run under pytest 9.)
schema = schemathesis.openapi.from_asgi(
    "/openapi.json",
    create_app(Settings(models_dir=Path("/nonexistent"), reload_interval_seconds=0)),
)


@pytest.fixture(scope="session")
def fuzzed_app(quick_registry: Path) -> FastAPI:
    """The app the generated requests go to: all fourteen quick models, admin API on."""
    return create_app(
        Settings(models_dir=quick_registry, reload_interval_seconds=0, admin_token="fuzz-token")
    )


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_generated_requests_never_get_a_server_error(
    case: schemathesis.Case, fuzzed_app: FastAPI
) -> None:
    response = case.call_and_validate(app=fuzzed_app, checks=[not_a_server_error])
    if response.status_code >= 400:
        assert "error" in response.json()
