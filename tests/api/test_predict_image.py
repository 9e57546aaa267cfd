from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.imaging.preprocess import preprocess
from bench.digit_styles import photo
from tests.helpers import mnist_digits, png_bytes

IMAGE = "/v1/models/mnist-knn/predict/image"
PIXELS = 25_000_000


def _variants(digit: np.ndarray) -> dict[str, bytes]:
    """One MNIST digit drawn the ways users send digits."""
    ink = Image.fromarray(digit)
    paper = Image.fromarray(255 - digit)
    big = paper.resize((280, 280), Image.Resampling.BICUBIC)
    rgba = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    rgba.putalpha(ink.resize((280, 280), Image.Resampling.BICUBIC))
    return {
        "white on black, 28 px": png_bytes(ink),
        "black on white, 28 px": png_bytes(paper),
        "black on white, 280 px": png_bytes(big),
        "black on white, 280 px, RGB JPEG": png_bytes(big.convert("RGB"), "JPEG"),
        "transparent RGBA, 280 px": png_bytes(rgba),
        "white on black, 280 px, GIF": png_bytes(ink.resize((280, 280)), "GIF"),
    }


def test_same_digit_drawn_differently_preprocesses_alike(mnist_dir: Path) -> None:
    images, _ = mnist_digits(mnist_dir, 5)
    for digit in images:
        variants = {name: preprocess(data, PIXELS) for name, data in _variants(digit).items()}
        reference = variants.pop("white on black, 28 px")
        assert reference.shape == (28, 28) and reference.max() == pytest.approx(255, abs=1)
        for name, array in variants.items():
            # Mean absolute difference per pixel, on a 0-255 scale: resampling noise only.
            assert np.abs(array - reference).mean() < 12, name


def test_same_digit_drawn_differently_gets_the_same_prediction(
    client: TestClient, mnist_dir: Path
) -> None:
    images, _ = mnist_digits(mnist_dir, 5)
    for digit in images:
        labels = set()
        for name, data in _variants(digit).items():
            response = client.post(IMAGE, files={"file": (f"{name}.png", data)})
            assert response.status_code == 200, (name, response.text)
            labels.add(response.json()["predictions"][0]["label"])
        assert len(labels) == 1


def test_preprocessing_matches_mnist_for_mnist_digits(client: TestClient, mnist_dir: Path) -> None:
    images, labels = mnist_digits(mnist_dir, 40)
    files = [
        ("file", (f"{i}.png", png_bytes(Image.fromarray(d)), "image/png"))
        for i, d in enumerate(images)
    ]
    response = client.post(IMAGE, files=files)
    assert response.status_code == 200
    predicted = [int(p["label"]) for p in response.json()["predictions"]]
    assert len(predicted) == 40
    assert sum(p == t for p, t in zip(predicted, labels.tolist(), strict=True)) >= 28


def test_raw_body_upload(client: TestClient, mnist_dir: Path) -> None:
    images, _ = mnist_digits(mnist_dir, 1)
    response = client.post(
        "/v1/models/mnist-cnn/versions/1/predict/image",
        content=png_bytes(Image.fromarray(255 - images[0])),
        headers={"content-type": "image/png"},
    )
    assert response.status_code == 200
    assert response.headers["x-model-version"] == "1"
    assert len(response.json()["predictions"]) == 1


def _error_code(response: object) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]  # type: ignore[attr-defined]


def test_tabular_model_refuses_images(client: TestClient) -> None:
    data = png_bytes(Image.new("L", (28, 28), 255))
    response = client.post("/v1/models/iris-svm/predict/image", files={"file": ("a.png", data)})
    assert _error_code(response) == (422, "unsupported_input")


def test_wrong_content_type_returns_415(client: TestClient) -> None:
    response = client.post(IMAGE, json={"instances": []})
    assert _error_code(response) == (415, "unsupported_media_type")


def test_undecodable_and_truncated_images_return_422(client: TestClient, mnist_dir: Path) -> None:
    images, _ = mnist_digits(mnist_dir, 1)
    good = png_bytes(Image.fromarray(images[0]).resize((200, 200)))
    for data in (b"this is not an image", good[: len(good) // 2], b""):
        response = client.post(IMAGE, content=data, headers={"content-type": "image/png"})
        assert _error_code(response) == (422, "invalid_image")


def test_blank_image_returns_422(client: TestClient) -> None:
    response = client.post(
        IMAGE, files={"file": ("blank.png", png_bytes(Image.new("L", (50, 50), 255)))}
    )
    code, name = _error_code(response)
    assert (code, name) == (422, "blank_image")
    assert "blank" in response.json()["error"]["message"]


def test_bad_file_in_a_batch_is_named(client: TestClient, mnist_dir: Path) -> None:
    images, _ = mnist_digits(mnist_dir, 1)
    files = [
        ("file", ("ok.png", png_bytes(Image.fromarray(images[0])))),
        ("file", ("bad.png", b"no")),
    ]
    response = client.post(IMAGE, files=files)
    assert _error_code(response) == (422, "invalid_image")
    assert response.json()["error"]["message"].startswith("file[1]:")


def test_form_without_file_part_returns_422(client: TestClient) -> None:
    response = client.post(IMAGE, data={"image": "x"}, files={"other": ("a.png", b"123")})
    assert _error_code(response) == (422, "invalid_image")


def test_a_blank_noisy_photo_is_refused_saying_what_was_seen(client: TestClient) -> None:
    picture, _ = photo(None, np.random.default_rng(13), (600, 400))
    response = client.post(IMAGE, files={"file": ("paper.jpg", png_bytes(picture, "JPEG"))})
    assert _error_code(response) == (422, "blank_image")
    assert re.search(
        r"\d+ grey levels, [\d.]+ times the noise", response.json()["error"]["message"]
    )


PREPROCESS = "/v1/models/mnist-knn/preprocess/image"


def test_preprocess_returns_the_digits_the_model_sees_side_by_side(
    client: TestClient, mnist_dir: Path
) -> None:
    images, _ = mnist_digits(mnist_dir, 2)
    uploads = [png_bytes(Image.fromarray(255 - digit).resize((280, 280))) for digit in images]
    response = client.post(
        PREPROCESS, files=[("file", (f"{i}.png", d)) for i, d in enumerate(uploads)]
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(response.content)) as strip:
        assert (strip.mode, strip.size) == ("L", (56, 28))
        seen = np.asarray(strip, dtype=np.float64)
    for index, data in enumerate(uploads):
        expected = preprocess(data, PIXELS)
        assert np.abs(seen[:, 28 * index : 28 * (index + 1)] - expected).max() <= 0.5


def test_preprocess_refuses_what_predict_refuses(client: TestClient) -> None:
    digit = png_bytes(Image.new("L", (40, 40), 255))  # blank
    response = client.post(PREPROCESS, files={"file": ("blank.png", digit)})
    assert _error_code(response) == (422, "blank_image")
    response = client.post("/v1/models/iris-svm/preprocess/image", files={"file": ("a", digit)})
    assert _error_code(response) == (422, "unsupported_input")
    response = client.post(PREPROCESS + "?top_k=2", files={"file": ("blank.png", digit)})
    assert _error_code(response) == (422, "invalid_request")
    response = client.post(PREPROCESS, content=b"{}", headers={"content-type": "application/json"})
    assert _error_code(response) == (415, "unsupported_media_type")
