from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.helpers import IRIS_ROW, ServerProcess, make_client
from training.__main__ import NOT_PROMOTED
from training.__main__ import main as train


def test_reload_is_off_without_a_token(iris_registry: Path) -> None:
    with make_client(iris_registry) as client:
        response = client.post("/v1/admin/reload", headers={"Authorization": "Bearer x"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "admin_disabled"


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong", "s3cret", "Bearer s3cret2", "Basic s3cret"]
)
def test_reload_refuses_a_bad_token_and_logs_without_it(
    iris_registry: Path, header: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {"Authorization": header} if header else {}
    with (
        make_client(iris_registry, admin_token="s3cret") as client,
        caplog.at_level(logging.WARNING),
    ):
        response = client.post("/v1/admin/reload", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert "admin call refused" in caplog.text
    assert "s3cret" not in caplog.text and "wrong" not in caplog.text


def test_reload_loads_a_new_version_without_restart(iris_registry: Path) -> None:
    with make_client(iris_registry, admin_token="s3cret") as client:
        assert (
            train(["--quick", "--model", "iris-knn", "--registry-dir", str(iris_registry)])
            == NOT_PROMOTED
        )
        response = client.post("/v1/admin/reload", headers={"Authorization": "Bearer s3cret"})
        assert response.status_code == 200
        assert response.json() == {
            "loaded": ["iris-knn/2"],
            "failed": [],
            "removed": [],
            "invalid": [],
        }
        predict = client.post("/v1/models/iris-knn/predict", json={"instances": [IRIS_ROW]})
        assert predict.headers["x-model-version"] == "2"


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer"])
def test_the_bearer_scheme_is_case_insensitive(iris_registry: Path, scheme: str) -> None:
    with make_client(iris_registry, admin_token="s3cret") as client:
        response = client.post("/v1/admin/reload", headers={"Authorization": f"{scheme} s3cret"})
    assert response.status_code == 200


def test_a_refusal_names_the_scheme_it_wants(iris_registry: Path) -> None:
    with make_client(iris_registry, admin_token="s3cret") as client:
        response = client.post("/v1/admin/reload", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="admin"'


def test_a_flood_of_refused_attempts_logs_one_line(
    iris_registry: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        make_client(iris_registry, admin_token="s3cret") as client,
        caplog.at_level(logging.WARNING),
    ):
        statuses = [
            client.post("/v1/admin/reload", headers={"Authorization": f"Bearer {n}"}).status_code
            for n in range(300)
        ]
        right = client.post("/v1/admin/reload", headers={"Authorization": "Bearer s3cret"})
    # Ten failures a minute per address (SERVING_ADMIN_ATTEMPTS_PER_MINUTE), then 429 for all.
    assert statuses == [401] * 10 + [429] * 290 and right.status_code == 429
    refusals = [r for r in caplog.records if "admin call refused" in r.getMessage()]
    assert len(refusals) == 1  # the next line comes ten seconds later, with a count


def test_a_reload_storm_is_served_one_scan_at_a_time(iris_registry: Path) -> None:
    with make_client(iris_registry, admin_token="s3cret") as client:
        quick = ["--quick", "--model", "iris-svm", "--registry-dir", str(iris_registry)]
        assert train(quick) == NOT_PROMOTED

        def reload() -> dict[str, list[str]]:
            headers = {"Authorization": "Bearer s3cret"}
            response = client.post("/v1/admin/reload", headers=headers)
            assert response.status_code == 200
            body: dict[str, list[str]] = response.json()
            return body

        with ThreadPoolExecutor(16) as pool:
            reports = list(pool.map(lambda _: reload(), range(48)))
        # Loaded once, by whichever scan ran first (the others find it loaded); it serves.
        assert sum(r["loaded"].count("iris-svm/2") for r in reports) == 1
        assert all(r["failed"] == [] for r in reports)
        predict = client.post("/v1/models/iris-svm/predict", json={"instances": [IRIS_ROW]})
        assert predict.headers["x-model-version"] == "2"


@pytest.mark.parametrize(("trusted", "logged"), [("", "127.0.0.1"), ("127.0.0.1", "203.0.113.9")])
def test_forwarded_addresses_are_believed_only_from_configured_proxies(
    iris_registry: Path, trusted: str, logged: str
) -> None:
    server = ServerProcess(iris_registry, admin_token="s3cret", forwarded_allow_ips=trusted)
    try:
        server.wait_ready()
        response = httpx.post(
            f"{server.base_url}/v1/admin/reload",
            headers={"Authorization": "Bearer guess", "X-Forwarded-For": "203.0.113.9"},
        )
        assert response.status_code == 401
        [line] = [line for line in server.output().splitlines() if "call refused" in line]
    finally:
        server.stop()
    assert line.endswith(f"from {logged}")
