"""TF Serving's REST predict (KServe V1) through the app: rows and columns in, probabilities
out, equal to the native dialect's; the model status clients read."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.helpers import IRIS_ROW, mnist_digits, png_bytes

IRIS = "/v1/models/iris-logistic-regression:predict"
SECOND = {"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2, "petal_width": 2.3}


def probabilities(client: TestClient, model: str, rows: list[Any]) -> list[list[float]]:
    """The native dialect's probabilities, in the order of the metadata's class_labels."""
    labels = client.get(f"/v1/models/{model}").json()["class_labels"]
    response = client.post(f"/v1/models/{model}/predict", json={"instances": rows})
    return [[p["probabilities"][label] for label in labels] for p in response.json()["predictions"]]


def test_instances_rows_equal_native_probabilities(client: TestClient) -> None:
    response = client.post(IRIS, json={"instances": [IRIS_ROW, SECOND]})
    assert response.status_code == 200 and response.headers["x-model-version"] == "1"
    expected = probabilities(client, "iris-logistic-regression", [IRIS_ROW, SECOND])
    np.testing.assert_allclose(response.json()["predictions"], expected, atol=1e-5)
    versioned = client.post(
        "/v1/models/iris-logistic-regression/versions/1:predict",
        json={"instances": [IRIS_ROW], "signature_name": "serving_default"},
    )
    np.testing.assert_allclose(versioned.json()["predictions"], expected[:1], atol=1e-5)


def test_columnar_inputs_answer_outputs(client: TestClient) -> None:
    columns = {name: [IRIS_ROW[i], SECOND[name]] for i, name in enumerate(SECOND)}
    expected = probabilities(client, "iris-logistic-regression", [IRIS_ROW, SECOND])
    rows = [IRIS_ROW, SECOND]
    # Columns, rows, or the artifact's one tensor by its name ("X") or its name before signatures.
    for inputs in (columns, [IRIS_ROW, list(SECOND.values())], {"input": rows}, {"X": rows}):
        response = client.post(IRIS, json={"inputs": inputs})
        assert response.status_code == 200, response.text
        np.testing.assert_allclose(response.json()["outputs"], expected, atol=1e-5)


def test_mnist_pixels_and_b64_images(client: TestClient, mnist_dir: Path) -> None:
    images, _ = mnist_digits(mnist_dir, 3)
    rows = images.reshape(3, -1).tolist()
    response = client.post("/v1/models/mnist-mlp:predict", json={"instances": rows})
    expected = probabilities(client, "mnist-mlp", rows)
    np.testing.assert_allclose(response.json()["predictions"], expected, atol=1e-5)
    pngs = [png_bytes(Image.fromarray(255 - image)) for image in images]
    instances = [{"b64": base64.b64encode(p).decode()} for p in pngs]
    response = client.post("/v1/models/mnist-mlp:predict", json={"instances": instances})
    assert response.status_code == 200
    upload = client.post(
        "/v1/models/mnist-mlp/predict/image", files=[("file", p) for p in pngs]
    ).json()["predictions"]
    winners = np.argmax(response.json()["predictions"], axis=1).tolist()
    assert winners == [p["class_index"] for p in upload]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"instances": [IRIS_ROW], "extra": 1}, 400, "Unknown field 'extra'"),
        ({"instances": [IRIS_ROW], "inputs": [IRIS_ROW]}, 400, '"instances"'),
        ({"instances": []}, 400, "non-empty list"),
        ({"instances": [IRIS_ROW], "signature_name": "x"}, 400, "serving_default"),
        ({"instances": [[1, 2]]}, 400, "expected 4 numbers"),
        ({"inputs": {"sepal_length": [1, 2], "sepal_width": [1]}}, 400, "same length"),
        ({"instances": [{"b64": "!!"}]}, 400, "unknown feature 'b64'"),
    ],
)
def test_bad_bodies_get_tf_serving_errors(
    client: TestClient, body: Any, status: int, message: str
) -> None:
    response = client.post(IRIS, json=body)
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"} and message in response.json()["error"]


def test_bad_b64_image_and_unknown_model(client: TestClient) -> None:
    response = client.post("/v1/models/mnist-mlp:predict", json={"instances": [{"b64": "!!"}]})
    assert response.status_code == 400 and "base64" in response.json()["error"]
    response = client.post("/v1/models/nope:predict", json={"instances": [IRIS_ROW]})
    assert response.status_code == 404 and response.json() == {
        "error": "No model 'nope' in the registry."
    }
    response = client.get(IRIS)
    assert response.status_code == 405 and response.headers["allow"] == "POST"


def test_model_status_for_kserve_v1_and_tf_serving_clients(client: TestClient) -> None:
    for path in ("/v1/models/iris-svm", "/v1/models/iris-svm/versions/1"):
        document = client.get(path).json()
        assert document["ready"] is True and document["name"] == "iris-svm"
        assert document["model_version_status"] == [
            {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK"}}
        ]
        assert document["class_labels"] == ["setosa", "versicolor", "virginica"]
