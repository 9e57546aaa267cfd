from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def test_list_models_shows_all_fourteen_ready_with_details(client: TestClient) -> None:
    response = client.get("/v1/models")
    assert response.status_code == 200
    models = {m["name"]: m for m in response.json()["models"]}
    assert len(models) == 14
    svm = models["iris-svm"]
    assert svm["status"] == "ready" and svm["versions"] == [1] and svm["latest_version"] == 1
    assert svm["dataset"] == "iris" and svm["algorithm"] == "svm" and svm["framework"] == "sklearn"
    assert svm["class_labels"] == ["setosa", "versicolor", "virginica"]
    assert svm["input"]["features"][3] == {"name": "petal_width", "unit": "cm"}
    assert 0 < svm["metrics"]["accuracy"] <= 1 and "cv_accuracy" in svm["metrics"]
    assert models["mnist-cnn"]["framework"] == "keras"
    assert models["mnist-cnn"]["input"]["shape"] == [28, 28]


def test_latest_metadata_includes_evaluation_metrics(client: TestClient) -> None:
    body = client.get("/v1/models/mnist-knn").json()
    assert body["name"] == "mnist-knn" and body["version"] == 1
    assert {"accuracy", "macro_f1", "per_class", "confusion_matrix"} <= body["metrics"].keys()
    assert "model.joblib" in body["files"] and body["library_versions"]["scikit-learn"]


def test_version_metadata(client: TestClient) -> None:
    response = client.get("/v1/models/iris-knn/versions/1")
    assert response.status_code == 200 and response.json()["version"] == 1


def test_unknown_model_returns_404(client: TestClient) -> None:
    response = client.get("/v1/models/nope")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "model_not_found", "message": "No model 'nope' in the registry."}
    }


def test_unknown_version_returns_404(client: TestClient) -> None:
    response = client.get("/v1/models/iris-knn/versions/7")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "version_not_found"


@pytest.mark.parametrize(
    "path", ["/v1/models/..%2F..%2Fetc", "/v1/models/IRIS", "/v1/models/iris-knn/versions/x"]
)
def test_invalid_names_are_rejected_before_lookup(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (404, 422)
    assert "error" in response.json()


def test_plot_is_served_as_png(client: TestClient) -> None:
    response = client.get("/v1/models/iris-svm/versions/1/plots/decision_regions.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")


def test_unknown_plot_returns_404_listing_available(client: TestClient) -> None:
    response = client.get("/v1/models/mnist-mlp/versions/1/plots/decision_regions.png")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "plot_not_found" and "training_history" in error["message"]


def test_unknown_route_uses_the_error_shape(client: TestClient) -> None:
    response = client.get("/v2/nothing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_wrong_method_returns_405_with_allow_header(client: TestClient) -> None:
    response = client.delete("/v1/models")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["allow"]


def test_openapi_documents_every_endpoint_with_examples(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/v1/models",
        "/v1/models/{name}",
        "/v1/models/{name}/versions/{version}",
        "/v1/models/{name}/versions/{version}/plots/{plot}.png",
        "/v1/models/{name}/predict",
        "/v1/models/{name}/versions/{version}/predict",
        "/v1/models/{name}/predict/image",
        "/v1/models/{name}/versions/{version}/predict/image",
        "/v1/models/{name}/preprocess/image",
        "/health/live",
        "/health/ready",
        "/metrics",
        "/v1/admin/reload",
    ):
        assert path in paths, path
    assert schema["components"]["schemas"]["PredictRequest"]["examples"]
    assert client.get("/docs").status_code == 200
