"""The bad-input battery: each gets its 4xx in the one error shape, and the next request works."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from PIL import Image

from tests.helpers import IRIS_ROW, mnist_digits, png_bytes

IRIS = "/v1/models/iris-svm/predict"
MNIST = "/v1/models/mnist-mlp/predict"
IMAGE = "/v1/models/mnist-cnn/predict/image"
JSON = {"content-type": "application/json"}


def _json(path: str, body: bytes | str) -> Callable[[TestClient], Response]:
    return lambda client: client.post(path, content=body, headers=JSON)


def _image(data: bytes, content_type: str = "image/png") -> Callable[[TestClient], Response]:
    return lambda client: client.post(IMAGE, content=data, headers={"content-type": content_type})


def _animated_gif() -> bytes:
    frames = [Image.new("L", (28, 28), value) for value in (0, 255)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


def _bomb_png() -> bytes:
    """A 30000x30000 PNG of a few kilobytes: its header alone must get it refused."""
    buffer = io.BytesIO()
    Image.new("1", (30000, 30000)).save(buffer, "PNG")
    return buffer.getvalue()


BAD_REQUESTS: dict[str, tuple[Callable[[TestClient], Response], int, str]] = {
    "not JSON": (_json(IRIS, "instances=1"), 422, "invalid_request"),
    "truncated JSON": (_json(IRIS, '{"instances": [[1, 2'), 422, "invalid_request"),
    "empty body": (_json(IRIS, b""), 422, "invalid_request"),
    "JSON null": (_json(IRIS, "null"), 422, "invalid_request"),
    "JSON list, not object": (_json(IRIS, "[[1, 2, 3, 4]]"), 422, "invalid_request"),
    "invalid UTF-8": (_json(IRIS, b'{"instances": [["\xff"]]}'), 400, "bad_request"),
    "wrong content type": (
        lambda c: c.post(IRIS, content=b"1,2,3,4", headers={"content-type": "text/plain"}),
        415,
        "unsupported_media_type",
    ),
    "CSV without a header row": (
        lambda c: c.post(IRIS, content=b"1,2,3,4", headers={"content-type": "text/csv"}),
        422,
        "invalid_request",
    ),
    "no content type": (lambda c: c.post(IRIS, content=b"{}"), 415, "unsupported_media_type"),
    "NaN": (_json(IRIS, '{"instances": [[NaN, 1, 1, 1]]}'), 422, "invalid_input"),
    "Infinity": (_json(IRIS, '{"instances": [[1, Infinity, 1, 1]]}'), 422, "invalid_input"),
    "string for number": (_json(IRIS, '{"instances": [["5.1", 1, 1, 1]]}'), 422, "invalid_input"),
    "boolean for number": (_json(IRIS, '{"instances": [[true, 1, 1, 1]]}'), 422, "invalid_input"),
    "null for number": (_json(IRIS, '{"instances": [[null, 1, 1, 1]]}'), 422, "invalid_input"),
    "nested too deep": (
        _json(IRIS, '{"instances": ' + "[" * 10_000 + "]" * 10_000 + "}"),
        400,
        "bad_request",
    ),
    "row too short": (_json(IRIS, '{"instances": [[1, 2, 3]]}'), 422, "invalid_input"),
    "row too long": (_json(IRIS, '{"instances": [[1, 2, 3, 4, 5]]}'), 422, "invalid_input"),
    "unknown feature": (
        _json(
            IRIS,
            '{"instances": [{"sepal_length": 1, "sepal_width": 1, "petal_length": 1,'
            ' "petal_width": 1, "stem": 2}]}',
        ),
        422,
        "invalid_input",
    ),
    "missing feature": (_json(IRIS, '{"instances": [{"sepal_length": 1}]}'), 422, "invalid_input"),
    "overflowing number": (_json(IRIS, '{"instances": [[1e999, 1, 1, 1]]}'), 422, "invalid_input"),
    "huge integer": (
        _json(IRIS, '{"instances": [[' + "9" * 4000 + ", 1, 1, 1]]}"),
        422,
        "invalid_input",
    ),
    "empty batch": (_json(IRIS, '{"instances": []}'), 422, "invalid_request"),
    "instances not a list": (_json(IRIS, '{"instances": 5}'), 422, "invalid_request"),
    "pixel above 255": (
        _json(MNIST, '{"instances": [[' + "0, " * 783 + "256]]}"),
        422,
        "invalid_input",
    ),
    "negative pixel": (
        _json(MNIST, '{"instances": [[-1' + ", 0" * 783 + "]]}"),
        422,
        "invalid_input",
    ),
    "image of 27 rows": (
        _json(MNIST, '{"instances": [' + str([[0] * 28] * 27) + "]}"),
        422,
        "invalid_input",
    ),
    "too many rows": (
        _json(IRIS, '{"instances": [' + ",".join([str(IRIS_ROW)] * 1025) + "]}"),
        413,
        "payload_too_large",
    ),
    "image: not an image": (_image(b"GIF89a but not really"), 422, "invalid_image"),
    "image: empty": (_image(b""), 422, "invalid_image"),
    "image: truncated": (
        lambda c: _image(png_bytes(Image.new("L", (300, 300), 255))[:200])(c),
        422,
        "invalid_image",
    ),
    "image: animated": (lambda c: _image(_animated_gif(), "image/gif")(c), 422, "invalid_image"),
    "image: 1x1": (lambda c: _image(png_bytes(Image.new("L", (1, 1), 0)))(c), 422, "blank_image"),
    "image: all blank": (
        lambda c: _image(png_bytes(Image.new("RGB", (64, 64), "white")))(c),
        422,
        "blank_image",
    ),
    "image: decompression bomb": (lambda c: _image(_bomb_png())(c), 413, "payload_too_large"),
    "image: unsupported format (TIFF)": (
        lambda c: _image(png_bytes(Image.new("L", (28, 28)), "TIFF"))(c),
        422,
        "invalid_image",
    ),
    "image: wrong content type": (_image(b"x", "text/plain"), 415, "unsupported_media_type"),
    "image to a tabular model": (
        lambda c: c.post(
            "/v1/models/iris-svm/predict/image", content=b"x", headers={"content-type": "image/png"}
        ),
        422,
        "unsupported_input",
    ),
    "unknown model": (
        lambda c: c.post("/v1/models/nope/predict", json={"instances": [IRIS_ROW]}),
        404,
        "model_not_found",
    ),
    "unknown version": (
        lambda c: c.post("/v1/models/iris-svm/versions/99/predict", json={"instances": [IRIS_ROW]}),
        404,
        "version_not_found",
    ),
    "version zero": (lambda c: c.get("/v1/models/iris-svm/versions/0"), 422, "invalid_request"),
    "version not a number": (
        lambda c: c.get("/v1/models/iris-svm/versions/latest"),
        422,
        "invalid_request",
    ),
    "path traversal": (lambda c: c.get("/v1/models/../../etc/passwd"), 404, "not_found"),
    "encoded slash": (lambda c: c.get("/v1/models/..%2F..%2Fetc%2Fpasswd"), 404, "not_found"),
    "encoded dots": (lambda c: c.get("/v1/models/%2E%2E"), 422, "invalid_request"),
    "upper-case name": (lambda c: c.get("/v1/models/IRIS-SVM"), 422, "invalid_request"),
    "plot traversal": (
        lambda c: c.get("/v1/models/iris-svm/versions/1/plots/..%2Fmetadata.png"),
        404,
        "not_found",
    ),
    "plot outside list": (
        lambda c: c.get("/v1/models/iris-svm/versions/1/plots/metadata.png"),
        404,
        "plot_not_found",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_bad_input_gets_its_4xx_and_the_next_request_is_served(
    client: TestClient, case: str
) -> None:
    send, status, code = BAD_REQUESTS[case]
    response = send(client)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert "Traceback" not in response.text and "/work/" not in response.text
    assert client.post(IRIS, json={"instances": [IRIS_ROW]}).status_code == 200


@pytest.mark.parametrize("mode", ["P", "CMYK", "I;16", "LA", "1"])
def test_unusual_but_valid_image_modes_are_served(
    client: TestClient, mnist_dir: Path, mode: str
) -> None:
    images, _ = mnist_digits(mnist_dir, 1)
    digit = Image.fromarray(255 - images[0]).resize((84, 84))
    if mode == "I;16":
        converted = Image.fromarray(np.asarray(digit, dtype=np.uint16) * 257)
    else:
        converted = digit.convert(mode)
    image_format = "JPEG" if mode == "CMYK" else "PNG"
    response = client.post(IMAGE, files={"file": ("d", png_bytes(converted, image_format))})
    assert response.status_code == 200, response.text
