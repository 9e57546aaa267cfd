"""Hostile bodies and headers get small, clear 4xx answers; a crash still gets the security
headers; no redirect is built from the Host header."""

from __future__ import annotations

import io
import json
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from bench.jpeg_bomb import scan_bomb_jpeg
from tests.helpers import IRIS_ROW, make_client

IRIS = "/v1/models/iris-svm/predict"
JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    "body",
    [
        b'{"instances": [{"\\ud800": 1}]}',
        b'{"instances": [[5.1, 3.5, 1.4, "\\udfff"]]}',
        b'{"instances": [[NaN, 3.5, 1.4, 0.2]], "note": "\\ud83d"}',  # json's fallback path too
        b'{"instances": [{"\xed\xa0\x80": 1}]}',  # a surrogate as raw UTF-8 bytes
    ],
)
def test_a_lone_surrogate_anywhere_gets_400(client: TestClient, body: bytes) -> None:
    response = client.post(IRIS, content=body, headers=JSON)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "bad_request"


def test_a_surrogate_pair_is_ordinary_text(client: TestClient) -> None:
    body = b'{"instances": [{"smile \\ud83d\\ude00": 1}]}'
    response = client.post(IRIS, content=body, headers=JSON)
    assert response.status_code == 422, response.text  # an unknown feature, named
    assert "smile \U0001f600" in response.json()["error"]["message"]


def test_error_bodies_stay_small_whatever_the_request_echoes(client: TestClient) -> None:
    many_keys = {f"unknown-{i}": 1 for i in range(250_000)}  # 4.5 MB
    long_key = {"x" * 100_000: 1}
    # 500,000 keys are more values than any request within the row limit holds: 413, unparsed.
    for row, status, code in (
        (many_keys, 413, "payload_too_large"),
        (long_key, 422, "invalid_input"),
    ):
        response = client.post(IRIS, content=orjson.dumps({"instances": [row, row]}), headers=JSON)
        assert response.status_code == status
        assert response.json()["error"]["code"] == code
        assert len(response.content) < 4096, len(response.content)


def test_invalid_rows_are_named_but_capped(client: TestClient) -> None:
    rows = [[1, 2, 3, "x" * 10_000]] * 1000
    response = client.post(IRIS, content=orjson.dumps({"instances": rows}), headers=JSON)
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert 1 <= len(details) <= 10 and details[0]["loc"] == ["instances", 0, "petal_width"]
    assert len(response.content) < 4096


def test_no_redirect_reflects_the_host_header(client: TestClient) -> None:
    for path in ("/v1/models/", "/v1/models/iris-svm/", "/health/live/"):
        response = client.get(path, headers={"host": "evil.example"}, follow_redirects=False)
        assert not response.is_redirect, response.headers
        assert "evil.example" not in response.text
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_predict_routes_answer_405_with_allow(client: TestClient) -> None:
    for path in (IRIS, "/v1/models/mnist-cnn/versions/1/predict/image"):
        response = client.get(path)
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert response.json()["error"]["code"] == "method_not_allowed"


def test_a_crash_is_a_500_with_the_security_headers(iris_registry: Path) -> None:
    """A runtime that fails at predict time (after loading and its checks)."""

    def crash(inputs: object) -> dict[str, object]:
        raise RuntimeError("the model broke")

    with make_client(iris_registry) as client:
        client.app.state.registry.get("iris-svm").runtime.run = crash  # type: ignore[attr-defined]
        response = client.post(IRIS, json={"instances": [IRIS_ROW]})
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "internal_error"
        assert "Traceback" not in response.text and "the model broke" not in response.text
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in response.headers["content-security-policy"]
        healthy = client.post(
            "/v1/models/iris-logistic-regression/predict", json={"instances": [IRIS_ROW]}
        )
        assert healthy.status_code == 200


def test_labels_unlike_the_artifact_fail_the_version_at_load(iris_registry: Path) -> None:
    """Two class labels for a three-class model: a failed version with its reason, not a
    version that loads as ready and answers 500."""
    metadata_path = iris_registry / "iris-svm" / "1" / "metadata.json"
    metadata = json.loads(metadata_path.read_text())
    two = ["setosa", "versicolor"]
    metadata["signature"]["classes"]["labels"] = two
    metadata_path.write_text(json.dumps({**metadata, "class_labels": two}))
    with make_client(iris_registry) as client:
        response = client.post(IRIS, json={"instances": [IRIS_ROW]})
        assert response.status_code == 503
        assert "3 probabilities a row; the signature has 2 class labels" in response.text
        failed = client.get("/health/ready").json()["failed"]
        assert any(line.startswith("iris-svm/1: the artifact's outputs") for line in failed)


def test_cors_applies_to_the_data_plane(iris_registry: Path) -> None:
    origin = {"origin": "https://a.example"}
    with make_client(iris_registry, cors_origins=["https://a.example"]) as client:
        response = client.post(IRIS, json={"instances": [IRIS_ROW]}, headers=origin)
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://a.example"
        assert response.headers["x-content-type-options"] == "nosniff"


def _form(images: list[bytes]) -> tuple[bytes, str]:
    boundary = "hostileform"
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{i}"\r\n'.encode()
        + b"\r\n"
        + image
        + b"\r\n"
        for i, image in enumerate(images)
    )
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(("image_format", "side", "count"), [("PNG", 4000, 3), ("WEBP", 5000, 2)])
def test_images_over_the_request_pixel_budget_get_413_before_decoding(
    client: TestClient, image_format: str, side: int, count: int
) -> None:
    """Three 16-megapixel PNGs, or 25-megapixel WebPs: kilobytes each, refused by their headers."""
    image = Image.new("L", (side, side), 255)
    buffer = io.BytesIO()
    image.save(buffer, image_format, **({"lossless": True} if image_format == "WEBP" else {}))
    body, content_type = _form([buffer.getvalue()] * count)
    response = client.post(
        "/v1/models/mnist-cnn/predict/image", content=body, headers={"content-type": content_type}
    )
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "payload_too_large" and "pixels" in error["message"]


def test_the_jpeg_scan_bomb_is_refused_by_its_header(client: TestClient) -> None:
    """The issue's 308 KB progressive JPEG, 4999x4999, its smallest scan repeated 5,000 times:
    23 s of CPU before; now its scans are counted before any is decoded."""
    bomb = scan_bomb_jpeg(4999, 5000)
    response = client.post(
        "/v1/models/mnist-cnn/predict/image", content=bomb, headers={"content-type": "image/jpeg"}
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_image" and "scan" in error["message"]
