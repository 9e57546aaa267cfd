"""Crashes a client can repeat are logged once a window, with a count: never a flood."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.dataplane import DataPlane
from app.main import create_app
from app.settings import Settings
from tests.helpers import IRIS_ROW


def test_a_flood_of_crashing_requests_logs_one_traceback(
    iris_registry: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(DataPlane, "predict", crash)
    app = create_app(Settings(models_dir=iris_registry, reload_interval_seconds=0))
    with (
        TestClient(app, raise_server_exceptions=False) as client,
        caplog.at_level(logging.ERROR),
    ):
        statuses = {
            client.post("/v1/models/iris-svm/predict", json={"instances": [IRIS_ROW]}).status_code
            for _ in range(50)
        }
    assert statuses == {500}
    crashes = [r for r in caplog.records if "unhandled error" in r.getMessage()]
    # Before: fifty tracebacks of 2 KB each; now one, the next ten seconds later with a count.
    assert len(crashes) == 1 and crashes[0].exc_info is not None
