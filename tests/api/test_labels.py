"""Labels through the app: routing by label, the admin API that moves them, and what
GET /v1/models shows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from tests.helpers import IRIS_ROW, ServerProcess, make_client
from training import labels as training_labels

AUTH = {"Authorization": "Bearer s3cret"}
ROW = {"instances": [IRIS_ROW]}


def copy_version(registry: Path, name: str, source: int, version: int) -> None:
    """Publish `version` of `name` as a copy of `source` (the same model, another number)."""
    staging = registry / name / f".staging-{version}"
    shutil.copytree(registry / name / str(source), staging)
    metadata = json.loads((staging / "metadata.json").read_text())
    (staging / "metadata.json").write_text(json.dumps({**metadata, "version": version}))
    staging.rename(registry / name / str(version))


@pytest.fixture
def two_versions(iris_registry: Path) -> Path:
    copy_version(iris_registry, "iris-svm", 1, 2)
    return iris_registry


def answered(client: TestClient, path: str, **kwargs: object) -> str:
    response = client.post(path, json=ROW, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return response.headers["x-model-version"]


def test_without_labels_the_newest_answers_and_labels_route(two_versions: Path) -> None:
    with make_client(two_versions, admin_token="s3cret") as client:
        assert answered(client, "/v1/models/iris-svm/predict") == "2"
        response = client.put(
            "/v1/admin/models/iris-svm/labels/production", json={"version": 1}, headers=AUTH
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"name": "iris-svm", "labels": {"production": {"version": 1}}}
        assert answered(client, "/v1/models/iris-svm/predict") == "1"
        assert client.post("/v1/models/iris-svm/predict", json=ROW).json()["version"] == 1
        client.put("/v1/admin/models/iris-svm/labels/staging", json={"version": 2}, headers=AUTH)
        assert answered(client, "/v1/models/iris-svm/labels/staging/predict") == "2"
        assert answered(client, "/v1/models/iris-svm/labels/staging:predict") == "2"
        v2 = client.post(
            "/v2/models/iris-svm/versions/staging/infer",
            json={
                "inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": IRIS_ROW}]
            },
        )
        assert v2.json()["model_version"] == "2"
        assert answered(client, "/v1/models/iris-svm/versions/2/predict") == "2"
        info = client.get("/v1/models/iris-svm").json()
        assert info["version"] == 1  # what unpinned requests get
        assert info["labels"] == {"production": {"version": 1}, "staging": {"version": 2}}
        listed = client.get("/v1/models").json()["models"]
        assert next(m for m in listed if m["name"] == "iris-svm")["labels"]["staging"] == {
            "version": 2
        }
        response = client.delete("/v1/admin/models/iris-svm/labels/production", headers=AUTH)
        assert response.json()["labels"] == {"staging": {"version": 2}}
        assert answered(client, "/v1/models/iris-svm/predict") == "2"
        history = json.loads((two_versions / "iris-svm" / "labels.json").read_text())["history"]
        assert [entry["by"].split()[0] for entry in history] == ["PUT", "PUT", "DELETE"]


def test_label_errors(two_versions: Path) -> None:
    with make_client(two_versions, admin_token="s3cret") as client:
        put = "/v1/admin/models/iris-svm/labels/production"
        assert client.put(put, json={"version": 1}).status_code == 401
        for body, words in (
            ({"version": 7}, "Version 7 of 'iris-svm' is not loaded"),
            ({"version": 1, "canary": {"version": 1, "weight": 0.5}}, "must differ"),
            ({"version": 1, "canary": {"version": 2, "fraction": 0.5}}, "canary is"),
            ({"version": 1, "shadow": {"version": 2, "fraction": 2}}, "less than or equal"),
            ({"version": 1, "color": "red"}, "Extra inputs"),
        ):
            response = client.put(put, json=body, headers=AUTH)
            assert response.status_code == 422, (body, response.text)
            assert words in response.json()["error"]["message"] + json.dumps(
                response.json()["error"].get("details", "")
            ), (body, response.text)
        response = client.put(
            "/v1/admin/models/iris-svm/labels/Prod", json={"version": 1}, headers=AUTH
        )
        assert response.status_code == 422
        response = client.put(
            "/v1/admin/models/nope/labels/production", json={"version": 1}, headers=AUTH
        )
        assert response.status_code == 404
        response = client.delete("/v1/admin/models/iris-svm/labels/canary", headers=AUTH)
        assert response.status_code == 404 and response.json()["error"]["code"] == "label_not_found"
        response = client.post("/v1/models/iris-svm/labels/canary/predict", json=ROW)
        assert response.status_code == 404
        assert "has no label 'canary' (labels: none)" in response.json()["error"]["message"]


def test_a_registry_that_cannot_be_written_answers_503(two_versions: Path) -> None:
    # A folder where labels.json should be: the write fails as on a read-only mount, root or not.
    (two_versions / "iris-svm" / "labels.json").mkdir()
    with make_client(two_versions, admin_token="s3cret") as client:
        response = client.put(
            "/v1/admin/models/iris-svm/labels/production", json={"version": 1}, headers=AUTH
        )
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "registry_not_writable"
        assert "cannot be written" in response.json()["error"]["message"]
        assert answered(client, "/v1/models/iris-svm/predict") == "2"


def test_a_broken_labels_file_keeps_the_labels_last_read(two_versions: Path) -> None:
    with make_client(two_versions, admin_token="s3cret") as client:
        client.put("/v1/admin/models/iris-svm/labels/production", json={"version": 1}, headers=AUTH)
        (two_versions / "iris-svm" / "labels.json").write_text('{"labels": {"production": 5')
        client.post("/v1/admin/reload", headers=AUTH)
        assert answered(client, "/v1/models/iris-svm/predict") == "1"
        assert "labels.json is not JSON" in client.app.state.registry.label_errors["iris-svm"]  # type: ignore[attr-defined]


def test_a_long_label_history_is_bounded_and_nothing_is_lost(two_versions: Path) -> None:
    """A real server: label PUTs for a long time keep labels.json small, the older changes
    moved beside it, where the training side reads them (the registry contract)."""
    server = ServerProcess(
        two_versions, admin_token="s3cret", reload_interval_seconds="0", compute_workers="1"
    )
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=30) as client:
            for i in range(130):
                target = {"version": 1 + i % 2}
                response = client.put("/v1/admin/models/iris-svm/labels/production", json=target)
                assert response.status_code == 200, response.text
            assert client.get("/health/ready").status_code == 200
    finally:
        server.stop()
    model = two_versions / "iris-svm"
    document = json.loads((model / "labels.json").read_text())
    assert len(document["history"]) == training_labels.MAX_HISTORY  # the newest 100
    assert document["labels"] == {"production": {"version": 2}}
    everything = training_labels.history(model)
    assert [entry["to"]["version"] for entry in everything] == [1 + i % 2 for i in range(130)]
    assert training_labels.previous(model, "production") == {"version": 1}
