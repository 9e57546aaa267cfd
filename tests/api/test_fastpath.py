"""The predict fast path answers exactly as the FastAPI routes do, and only valid requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

import app.api.fastpath
from tests.helpers import IRIS_ROW, mnist_digits, png_bytes

NAMED = {"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2, "petal_width": 2.3}
COMPARED_HEADERS = ("content-type", "content-length", "x-model-version")


@pytest.fixture
def fast_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The models the fast path scored, in order (the routes call predict through their module)."""
    calls: list[str] = []
    real = app.api.fastpath.predict

    async def spy(model: Any, *args: Any) -> dict[str, Any]:
        calls.append(model.metadata.name)
        return await real(model, *args)

    monkeypatch.setattr(app.api.fastpath, "predict", spy)
    return calls


def _streamed(body: bytes) -> Iterator[bytes]:
    """A body with no declared length (chunked): the fast path leaves it to the routes."""
    yield body


def _both_ways(client: TestClient, path: str, body: bytes, content_type: str) -> tuple[Any, Any]:
    headers = {"Content-Type": content_type}
    fast = client.post(path, content=body, headers=headers)
    routed = client.post(path, content=_streamed(body), headers=headers)
    return fast, routed


def _requests(mnist_dir: Path) -> list[tuple[str, bytes, str]]:
    import orjson

    digits, _ = mnist_digits(mnist_dir, 2)
    flat, square = digits[0].ravel().tolist(), digits[1].tolist()
    png = png_bytes(Image.fromarray(255 - digits[0]))
    boundary = "fastpathtest"
    form = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + png
        + f"\r\n--{boundary}--\r\n".encode()
    )
    json = "application/json"
    return [
        (
            "/v1/models/iris-logistic-regression/predict",
            orjson.dumps({"instances": [IRIS_ROW, NAMED]}),
            json,
        ),
        (
            "/v1/models/iris-knn/versions/1/predict",
            orjson.dumps({"instances": [IRIS_ROW] * 3}),
            json,
        ),
        ("/v1/models/mnist-mlp/predict", orjson.dumps({"instances": [flat, square]}), json),
        ("/v1/models/mnist-cnn/predict/image", png, "image/png"),
        (
            "/v1/models/mnist-cnn/versions/1/predict/image",
            form,
            f"multipart/form-data; boundary={boundary}",
        ),
    ]


def test_fast_path_answers_as_the_routes_do(
    client: TestClient, mnist_dir: Path, fast_calls: list[str]
) -> None:
    for path, body, content_type in _requests(mnist_dir):
        fast_calls.clear()
        fast, routed = _both_ways(client, path, body, content_type)
        assert fast_calls == [path.split("/")[3]], "the declared-length request took the fast path"
        assert fast.status_code == routed.status_code == 200, routed.text
        assert fast.content == routed.content
        for header in COMPARED_HEADERS:
            assert fast.headers[header] == routed.headers[header]


def test_fast_path_requests_are_labelled_by_route_in_metrics(
    client: TestClient, fast_calls: list[str]
) -> None:
    client.post("/v1/models/iris-svm/versions/1/predict", json={"instances": [IRIS_ROW]})
    assert fast_calls == ["iris-svm"]
    metrics = client.get("/metrics").text
    assert (
        'serving_requests_total{endpoint="/v1/models/{name}/versions/{version}/predict",'
        'model="iris-svm",status="200",version="1"}'
    ) in metrics


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/v1/models/iris-svm/predict", b'{"instances": []}', 422, "invalid_request"),
        ("/v1/models/iris-svm/predict", b'{"rows": [[1, 2, 3, 4]]}', 422, "invalid_request"),
        ("/v1/models/iris-svm/predict", b'{"instances": [[1, 2]]}', 422, "invalid_input"),
        ("/v1/models/iris-svm/predict", b'{"instances": [[1, 2', 422, "invalid_request"),
        ("/v1/models/nope/predict", b'{"instances": [[1, 2, 3, 4]]}', 404, "model_not_found"),
        ("/v1/models/Nope/predict", b'{"instances": [[1, 2, 3, 4]]}', 422, "invalid_request"),
        ("/v1/models/iris-svm/versions/0/predict", b'{"instances": [[1]]}', 422, "invalid_request"),
        (
            "/v1/models/iris-svm/versions/9/predict",
            b'{"instances": [[1]]}',
            404,
            "version_not_found",
        ),
        ("/v1/models/iris-svm/predict/image", b"\x89PNG", 422, "unsupported_input"),
    ],
)
def test_what_the_fast_path_declines_gets_the_routes_error(
    client: TestClient, fast_calls: list[str], path: str, body: bytes, status: int, code: str
) -> None:
    content_type = "image/png" if path.endswith("/image") else "application/json"
    response = client.post(path, content=body, headers={"Content-Type": content_type})
    assert fast_calls == []
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert client.post("/v1/models/iris-svm/predict", json={"instances": [IRIS_ROW]}).is_success


def _form(*parts: tuple[str, str | None, bytes], boundary: str = "b0undary") -> tuple[bytes, str]:
    """A multipart body of (name, filename or None for a text field, content) parts."""
    body = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += content + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_forms_of_file_uploads_take_the_fast_path_in_order(
    client: TestClient, mnist_dir: Path, fast_calls: list[str]
) -> None:
    digits, labels = mnist_digits(mnist_dir, 3)
    body, content_type = _form(
        *[("file", f"{i}.png", png_bytes(Image.fromarray(d))) for i, d in enumerate(digits)]
    )
    fast, routed = _both_ways(client, "/v1/models/mnist-cnn/predict/image", body, content_type)
    assert fast_calls == ["mnist-cnn"]
    assert fast.status_code == 200 and fast.content == routed.content
    assert len(fast.json()["predictions"]) == 3


@pytest.mark.parametrize(
    ("parts", "status", "code"),
    [
        ([("file", "a.png", b"PNG"), ("note", None, b"hello")], 200, None),
        ([("file", "a.png", b"PNG"), ("other", "b.png", b"PNG")], 200, None),
        ([("file", None, b"not a file")], 422, "invalid_image"),
        ([("note", None, b"hello")], 422, "invalid_image"),
        ([("file", "a.png", b"\x89PNG\r\n")], 422, "invalid_image"),
    ],
)
def test_other_forms_are_left_to_the_routes(
    client: TestClient,
    mnist_dir: Path,
    fast_calls: list[str],
    parts: list[tuple[str, str | None, bytes]],
    status: int,
    code: str | None,
) -> None:
    digit = png_bytes(Image.fromarray(mnist_digits(mnist_dir, 1)[0][0]))
    body, content_type = _form(*[(n, f, digit if c == b"PNG" else c) for n, f, c in parts])
    response = client.post(
        "/v1/models/mnist-cnn/predict/image", content=body, headers={"Content-Type": content_type}
    )
    assert fast_calls == []
    assert response.status_code == status, response.text
    if code is None:
        assert len(response.json()["predictions"]) == 1
    else:
        assert response.json()["error"]["code"] == code


def test_a_truncated_form_is_left_to_the_routes(client: TestClient, fast_calls: list[str]) -> None:
    body, content_type = _form(("file", "a.png", b"\x89PNG"))
    response = client.post(
        "/v1/models/mnist-cnn/predict/image",
        content=body[: len(body) // 2],
        headers={"Content-Type": content_type},
    )
    assert fast_calls == []
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_image"
