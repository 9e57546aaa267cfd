from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.helpers import IRIS_ROW, make_client
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
    assert "admin reload refused" in caplog.text
    assert "s3cret" not in caplog.text and "wrong" not in caplog.text


def test_reload_loads_a_new_version_without_restart(iris_registry: Path) -> None:
    with make_client(iris_registry, admin_token="s3cret") as client:
        assert train(["--quick", "--model", "iris-knn", "--registry-dir", str(iris_registry)]) == 0
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
