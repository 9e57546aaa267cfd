from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import IRIS_ROW, mnist_digits

IRIS = "/v1/models/iris-logistic-regression/predict"


def test_predict_iris_rows_as_lists_and_objects(client: TestClient) -> None:
    named = {"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2, "petal_width": 2.3}
    response = client.post(IRIS, json={"instances": [IRIS_ROW, named]})
    assert response.status_code == 200
    assert response.headers["x-model-version"] == "1"
    body = response.json()
    assert body["model"] == "iris-logistic-regression" and body["version"] == 1
    first, second = body["predictions"]
    assert (first["label"], first["class_index"]) == ("setosa", 0)
    assert second["label"] == "virginica"
    assert set(first["probabilities"]) == {"setosa", "versicolor", "virginica"}
    assert sum(first["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)


def test_predict_with_explicit_version(client: TestClient) -> None:
    response = client.post("/v1/models/iris-knn/versions/1/predict", json={"instances": [IRIS_ROW]})
    assert response.status_code == 200 and response.json()["version"] == 1


@pytest.mark.parametrize("model", ["mnist-knn", "mnist-mlp", "mnist-cnn"])
def test_predict_mnist_rows_flat_and_28_by_28(
    client: TestClient, mnist_dir: Path, model: str
) -> None:
    images, _ = mnist_digits(mnist_dir, 2)
    flat, square = images[0].ravel().tolist(), images[1].tolist()
    response = client.post(f"/v1/models/{model}/predict", json={"instances": [flat, square]})
    assert response.status_code == 200
    predictions = response.json()["predictions"]
    assert len(predictions) == 2
    assert set(predictions[0]["probabilities"]) == {str(d) for d in range(10)}


def test_predictions_follow_the_model(client: TestClient, mnist_dir: Path) -> None:
    images, labels = mnist_digits(mnist_dir, 50)
    rows = [image.ravel().tolist() for image in images]
    response = client.post("/v1/models/mnist-knn/predict", json={"instances": rows})
    predicted = [int(p["label"]) for p in response.json()["predictions"]]
    # The quick kNN is trained on 2,000 images: far better than the 10 % of chance.
    assert sum(p == t for p, t in zip(predicted, labels.tolist(), strict=True)) >= 35


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    return error


@pytest.mark.parametrize(
    ("instances", "where", "says"),
    [
        ([[1, 2, 3]], "instances[0]", "expected 4 numbers"),
        ([IRIS_ROW, [1, 2, "x", 4]], "instances[1][petal_length]", "got str"),
        ([[1, 2, True, 4]], "instances[0][petal_length]", "got bool"),
        (
            [{"sepal_length": 1, "sepal_width": 2, "petal_length": 3}],
            "instances[0][petal_width]",
            "missing feature",
        ),
        (
            [
                {
                    **dict(
                        zip(
                            ["sepal_length", "sepal_width", "petal_length", "petal_width"],
                            IRIS_ROW,
                            strict=True,
                        )
                    ),
                    "colour": 1,
                }
            ],
            "instances[0][colour]",
            "unknown feature",
        ),
        (["not a row"], "instances[0]", "expected a list"),
        ([[[1, 2], 3, 4, 5]], "instances[0][sepal_length]", "got list"),
    ],
)
def test_bad_rows_return_422_naming_row_and_field(
    client: TestClient, instances: list[Any], where: str, says: str
) -> None:
    error = _error(client.post(IRIS, json={"instances": instances}), 422, "invalid_input")
    assert error["message"].startswith(where) and says in error["message"]
    assert error["details"][0]["loc"][:2] == ["instances", int(where[10])]


def test_nan_and_infinity_are_rejected(client: TestClient) -> None:
    for literal in ("NaN", "Infinity", "-Infinity"):
        body = f'{{"instances": [[5.1, 3.5, {literal}, 0.2]]}}'
        response = client.post(IRIS, content=body, headers={"content-type": "application/json"})
        assert "finite" in _error(response, 422, "invalid_input")["message"]


def test_pixels_outside_0_255_are_rejected(client: TestClient) -> None:
    row = [0] * 783 + [256]
    error = _error(
        client.post("/v1/models/mnist-mlp/predict", json={"instances": [row]}), 422, "invalid_input"
    )
    assert error["message"] == "instances[0][783]: 256 is outside the allowed range [0, 255]"


def test_image_row_of_wrong_size_is_rejected(client: TestClient) -> None:
    error = _error(
        client.post("/v1/models/mnist-cnn/predict", json={"instances": [[0] * 100]}),
        422,
        "invalid_input",
    )
    assert "784 pixel values or 28 rows of 28, got 100" in error["message"]


def test_empty_batch_and_missing_instances_are_invalid_requests(client: TestClient) -> None:
    _error(client.post(IRIS, json={"instances": []}), 422, "invalid_request")
    error = _error(client.post(IRIS, json={"rows": [IRIS_ROW]}), 422, "invalid_request")
    assert error["details"][0]["loc"] == ["body", "instances"]


def test_malformed_json_is_an_invalid_request(client: TestClient) -> None:
    response = client.post(
        IRIS, content=b'{"instances": [[1,', headers={"content-type": "application/json"}
    )
    _error(response, 422, "invalid_request")


def test_wrong_content_type_returns_415(client: TestClient) -> None:
    # text/csv is a body predict takes (with a header row): tests/api/test_tabular_forms.py.
    response = client.post(IRIS, content=b"5.1,3.5,1.4,0.2", headers={"content-type": "text/plain"})
    _error(response, 415, "unsupported_media_type")


def test_too_many_rows_returns_413(client: TestClient) -> None:
    _error(client.post(IRIS, json={"instances": [IRIS_ROW] * 1025}), 413, "payload_too_large")


def test_unknown_model_and_version_on_predict(client: TestClient) -> None:
    _error(
        client.post("/v1/models/nope/predict", json={"instances": [IRIS_ROW]}),
        404,
        "model_not_found",
    )
    _error(
        client.post("/v1/models/iris-svm/versions/9/predict", json={"instances": [IRIS_ROW]}),
        404,
        "version_not_found",
    )


def test_server_keeps_serving_after_bad_requests(client: TestClient) -> None:
    client.post(IRIS, content=b"\xff\xfe", headers={"content-type": "application/json"})
    assert client.post(IRIS, json={"instances": [IRIS_ROW]}).status_code == 200
