"""SERVING_API_TOKEN: every predict route of every dialect asks for it; the rest stays open."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import IRIS_ROW, make_client

V2_BODY = {"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": IRIS_ROW}]}
PREDICTS = [
    ("/v1/models/iris-svm/predict", {"instances": [IRIS_ROW]}),
    ("/v1/models/iris-svm/versions/1/predict", {"instances": [IRIS_ROW]}),
    ("/v2/models/iris-svm/infer", V2_BODY),
    ("/v2/models/iris-svm/versions/1/infer", V2_BODY),
    ("/v1/models/iris-svm:predict", {"instances": [IRIS_ROW]}),
]


@pytest.mark.parametrize(("path", "body"), PREDICTS)
def test_predict_routes_need_the_token_when_it_is_set(
    iris_registry: Path, path: str, body: dict[str, object]
) -> None:
    with make_client(iris_registry, api_token="s3cret") as client:
        missing = client.post(path, json=body)
        wrong = client.post(path, json=body, headers={"Authorization": "Bearer nope"})
        right = client.post(path, json=body, headers={"Authorization": "bearer s3cret"})
    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer realm="predict"'
    assert right.status_code == 200
    if path.startswith("/v2/") or path.endswith(":predict"):
        assert isinstance(missing.json()["error"], str)  # each dialect's own error shape
    else:
        assert missing.json()["error"]["code"] == "unauthorized"


def test_image_routes_need_the_token_before_the_body_is_read(iris_registry: Path) -> None:
    with make_client(iris_registry, api_token="s3cret") as client:
        for route in ("predict/image", "preprocess/image"):
            response = client.post(f"/v1/models/iris-svm/{route}", content=b"\x89PNG")
            assert response.status_code == 401


def test_metadata_health_and_metrics_stay_open_with_a_token(iris_registry: Path) -> None:
    with make_client(iris_registry, api_token="s3cret") as client:
        for path in ("/v1/models", "/v1/models/iris-svm", "/v2/models/iris-svm", "/health/ready"):
            assert client.get(path).status_code == 200, path
        assert client.get("/metrics").status_code == 200


def test_predicting_needs_no_token_by_default(iris_registry: Path) -> None:
    with make_client(iris_registry) as client:
        response = client.post("/v1/models/iris-svm/predict", json={"instances": [IRIS_ROW]})
    assert response.status_code == 200
