from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from tests.helpers import IRIS_ROW, make_client


def test_live_and_ready_with_models(client: TestClient) -> None:
    assert client.get("/health/live").json() == {"status": "live"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["models_ready"] == 14


def test_empty_registry_is_live_but_not_ready_and_says_why(tmp_path: Path) -> None:
    with make_client(tmp_path / "empty") as client:
        assert client.get("/health/live").status_code == 200
        response = client.get("/health/ready")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "not_ready" and "No model version found" in error["message"]


def test_registry_of_only_broken_versions_is_not_ready(iris_registry: Path) -> None:
    for model in iris_registry.iterdir():
        (model / "1" / "metadata.json").unlink()
    with make_client(iris_registry) as client:
        response = client.get("/health/ready")
    assert response.status_code == 503
    assert "every one failed" in response.json()["error"]["message"]


def test_metrics_count_requests_predictions_and_models(iris_registry: Path) -> None:
    shutil.rmtree(iris_registry / "iris-svm")
    with make_client(iris_registry) as client:
        client.post("/v1/models/iris-knn/predict", json={"instances": [IRIS_ROW, IRIS_ROW]})
        client.post("/v1/models/iris-knn/predict", json={"instances": [[1]]})
        client.get("/nowhere")
        text = client.get("/metrics").text
    assert (
        'serving_requests_total{endpoint="/v1/models/{name}/predict",model="iris-knn",'
        'status="200",version="1"} 1.0' in text
    )
    assert 'status="422",version="1"} 1.0' in text
    assert (
        'serving_requests_total{endpoint="unmatched",model="",status="404",version=""} 1.0' in text
    )
    assert 'serving_predictions_total{label="setosa",model="iris-knn"} 2.0' in text
    assert "serving_models_loaded 5.0" in text
    assert 'serving_model_load_seconds{model="iris-knn",version="1"}' in text
    assert 'serving_request_seconds_bucket{endpoint="/v1/models/{name}/predict"' in text
    assert 'serving_predict_seconds_count{model="iris-knn"} 1.0' in text


def test_ready_names_the_models_a_training_run_has_still_to_train(iris_registry: Path) -> None:
    marker = iris_registry / ".training.json"
    marker.write_text('{"training": ["mnist-cnn", "../etc", 7], "pid": 1}')
    with make_client(iris_registry) as client:
        training = client.get("/health/ready").json()["training"]
        marker.unlink()
        after = client.get("/health/ready").json()
    assert training == ["mnist-cnn"]  # what is not a model name is dropped
    assert "training" not in after and after["models_ready"] == 6


def test_empty_registry_being_trained_says_so(tmp_path: Path) -> None:
    registry = tmp_path / "models"
    registry.mkdir()
    (registry / ".training.json").write_text('{"training": ["iris-svm", "iris-knn"]}')
    with make_client(registry) as client:
        response = client.get("/health/ready")
    assert response.status_code == 503
    assert "2 being trained" in response.json()["error"]["message"]
