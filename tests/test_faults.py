"""Faults against a real server process: swaps under load, broken versions, a short soak."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.helpers import IRIS_ROW, ServerProcess
from tests.soak import soak
from training.__main__ import NOT_PROMOTED
from training.__main__ import main as train


@pytest.fixture
def iris_server(iris_registry: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(iris_registry, reload_interval_seconds="0.2")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def _broken_copy(registry: Path, name: str, source: int, version: int) -> None:
    """Publish `version` as a copy of `source` whose artifact fails its checksum, atomically."""
    staging = registry / name / f".staging-broken-{version}"
    shutil.copytree(registry / name / str(source), staging)
    (staging / "model.joblib").write_bytes(b"tampered")
    metadata = json.loads((staging / "metadata.json").read_text())
    (staging / "metadata.json").write_text(json.dumps({**metadata, "version": version}))
    staging.rename(registry / name / str(version))


def test_new_versions_swap_in_under_load_with_zero_failed_requests(
    iris_server: ServerProcess, iris_registry: Path
) -> None:
    seen: Counter[tuple[int, str]] = Counter()
    stop = threading.Event()

    def hammer() -> None:
        with httpx.Client(base_url=iris_server.base_url, timeout=10) as client:
            while not stop.is_set():
                response = client.post(
                    "/v1/models/iris-svm/predict", json={"instances": [IRIS_ROW]}
                )
                seen[(response.status_code, response.headers.get("x-model-version", ""))] += 1

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        assert (
            train(["--quick", "--model", "iris-svm", "--registry-dir", str(iris_registry)])
            == NOT_PROMOTED
        )
        time.sleep(1.5)  # several re-scans: version 2 is in
        _broken_copy(iris_registry, "iris-svm", source=2, version=3)
        time.sleep(1.5)  # several re-scans: version 3 is refused
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert {status for status, _ in seen} == {200}, seen
    assert seen[(200, "1")] > 0 and seen[(200, "2")] > 0 and seen[(200, "3")] == 0
    models = httpx.get(f"{iris_server.base_url}/v1/models").json()["models"]
    [svm] = [m for m in models if m["name"] == "iris-svm"]
    assert svm["latest_version"] == 2
    assert svm["failed_versions"] == [
        {"version": 3, "reason": "model.joblib does not match its recorded SHA-256 checksum"}
    ]
    ready = httpx.get(f"{iris_server.base_url}/health/ready").json()
    assert ready == {
        "status": "ready",
        "models_ready": 7,
        "models_failed": 1,
        "failed": ["iris-svm/3: model.joblib does not match its recorded SHA-256 checksum"],
        "invalid": [],
    }
    assert "skipped iris-svm version 3" in iris_server.output()


def test_short_soak_has_no_5xx_no_dropped_connections_and_flat_memory(
    quick_registry: Path,
) -> None:
    server = ServerProcess(quick_registry, admin_token="soak-token")
    try:
        server.wait_ready()
        report = soak(server, total=3000, clients=8)
    finally:
        server.stop()
    assert report.requests == 3000
    assert report.server_errors == 0 and not report.transport_errors, report
    assert report.statuses[200] > 1000 and report.statuses[422] > 500
    assert report.memory_growth < 0.05, report
