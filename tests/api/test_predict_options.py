"""Native predict options: top_k and probabilities=false; unknown query parameters and body
fields are refused with 422, not ignored."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.helpers import IRIS_ROW, png_bytes

IRIS = "/v1/models/iris-logistic-regression/predict"
ROWS = {"instances": [IRIS_ROW, [6.7, 3.0, 5.2, 2.3]]}


def test_top_k_keeps_the_most_probable_classes_in_order(client: TestClient) -> None:
    full = client.post(IRIS, json=ROWS).json()["predictions"]
    top = client.post(IRIS + "?top_k=2", json=ROWS).json()["predictions"]
    for whole, best in zip(full, top, strict=True):
        expected = sorted(whole["probabilities"].items(), key=lambda item: -item[1])[:2]
        assert list(best["probabilities"].items()) == expected
        assert best["label"] == whole["label"] == expected[0][0]


def test_probabilities_false_gives_labels_only(client: TestClient) -> None:
    predictions = client.post(IRIS + "?probabilities=false", json=ROWS).json()["predictions"]
    assert predictions == [
        {"label": "setosa", "class_index": 0},
        {"label": "virginica", "class_index": 2},
    ]


def test_options_apply_to_image_uploads(client: TestClient) -> None:
    image = Image.new("L", (28, 28), 0)
    image.paste(255, (12, 4, 16, 24))
    response = client.post(
        "/v1/models/mnist-cnn/predict/image?top_k=1",
        content=png_bytes(image),
        headers={"content-type": "image/png"},
    )
    assert response.status_code == 200, response.text
    (prediction,) = response.json()["predictions"]
    assert list(prediction["probabilities"]) == [prediction["label"]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?topk=3", "topk"),
        ("?top_k=0", "top_k"),
        ("?top_k=4", "top_k"),  # three Iris classes
        ("?top_k=two", "top_k"),
        ("?top_k=1&top_k=2", "top_k"),
        ("?probabilities=maybe", "probabilities"),
    ],
)
def test_unknown_or_bad_query_parameters_get_422(
    client: TestClient, query: str, field: str
) -> None:
    response = client.post(IRIS + query, json=ROWS)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and error["details"][0]["loc"] == ["query", field]


def test_unknown_body_fields_get_422(client: TestClient) -> None:
    response = client.post(IRIS, json={**ROWS, "top_k": 3})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and error["details"][0]["loc"] == ["body", "top_k"]


def test_unknown_form_fields_get_422(client: TestClient) -> None:
    image = Image.new("L", (28, 28), 0)
    image.paste(255, (12, 4, 16, 24))
    response = client.post(
        "/v1/models/mnist-cnn/predict/image",
        files={"file": ("d.png", png_bytes(image))},
        data={"note": "hello"},
    )
    assert response.status_code == 422, response.text
    assert "note" in response.json()["error"]["message"]
