"""Worst-case requests: the largest bodies and pictures the server's limits still let through.

Each generator takes its size, so tests can build small versions of the same shapes.
"""

from __future__ import annotations

import io
import json
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw

from bench.jpeg_bomb import scan_bomb_jpeg
from bench.load import Request
from bench.payloads import BOUNDARY

JSON = "application/json"
MAX_BODY_BYTES = 10 * 1024 * 1024  # the server's default SERVING_MAX_BODY_BYTES


@dataclass(frozen=True)
class WorstCase:
    """One hostile request, named for the report."""

    name: str
    request: Request


def _save(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def bar_image(width: int, height: int) -> Image.Image:
    """A white greyscale picture with one black bar down its middle third: a clear "1"."""
    image = Image.new("L", (width, height), 255)
    left, right = width // 3, max(width // 3, 2 * width // 3 - 1)
    top, bottom = height // 8, max(height // 8, 7 * height // 8 - 1)
    ImageDraw.Draw(image).rectangle((left, top, right, bottom), fill=0)
    return image


def bar_png(width: int = 4000, height: int = 4000) -> bytes:
    """A PNG that is tiny on the wire (about 25 KB at 4000x4000) and large once decoded."""
    return _save(bar_image(width, height), "PNG")


def bar_webp(width: int = 5000, height: int = 5000) -> bytes:
    """A lossless WebP of the same picture; WebP decodes to RGB, three bytes a pixel."""
    # method 0: the fastest encoder; the file stays small (about 80 KB at 5000x5000).
    return _save(bar_image(width, height), "WEBP", lossless=True, method=0)


def multipart_files(files: list[bytes], content_type: str) -> tuple[bytes, str]:
    """Several `file` parts in one form; returns body and content type."""
    parts = [
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="digit-{index}"\r\nContent-Type: {content_type}\r\n\r\n'
        ).encode()
        + data
        + b"\r\n"
        for index, data in enumerate(files)
    ]
    body = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    return body, f"multipart/form-data; boundary={BOUNDARY}"


def pixel_rows(rows: int = 1024, width: int = 784) -> bytes:
    """`rows` rows of `width` pixel values (0-255, fixed seed) as a native predict body."""
    generator = random.Random(10)
    instances = [[generator.randrange(256) for _ in range(width)] for _ in range(rows)]
    return json.dumps({"instances": instances}, separators=(",", ":")).encode()


def unknown_keys_row(keys: int = 300_000) -> bytes:
    """One row object with `keys` feature names no model has."""
    row = {f"k{index}": 0 for index in range(keys)}
    return json.dumps({"instances": [row]}, separators=(",", ":")).encode()


def upload(model: str, image: bytes, content_type: str) -> Request:
    """A raw image body (no form) to the model's image route."""
    return Request(f"/v1/models/{model}/predict/image", image, content_type)


def worst_cases(scale: float = 1.0) -> list[WorstCase]:
    """The mix sent 8 at a time for the peak-memory figure; `scale` shrinks every size (tests)."""

    def side(pixels: int) -> int:
        return max(2, round(pixels * scale**0.5))

    webps, webp_content_type = multipart_files([bar_webp(side(5000), side(5000))] * 4, "image/webp")
    cases = [
        WorstCase(
            "1024 rows of 784 numbers to mnist-knn",
            Request(
                "/v1/models/mnist-knn/predict", pixel_rows(max(1, round(1024 * scale)), 784), JSON
            ),
        ),
        WorstCase(
            "1x25,000,000 PNG (raw body)",
            upload("mnist-cnn", bar_png(1, max(2, round(25_000_000 * scale))), "image/png"),
        ),
        WorstCase(
            "4 lossless 25-MP WebPs (multipart)",
            Request("/v1/models/mnist-cnn/predict/image", webps, webp_content_type),
        ),
        WorstCase(
            "16-MP PNG (multipart)",
            Request(
                "/v1/models/mnist-cnn/predict/image",
                *multipart_files([bar_png(side(4000), side(4000))], "image/png"),
            ),
        ),
        WorstCase(
            "row object with 300,000 unknown keys to iris-logistic-regression",
            Request(
                "/v1/models/iris-logistic-regression/predict",
                unknown_keys_row(max(1, round(300_000 * scale))),
                JSON,
            ),
        ),
    ]
    # The costliest images the server accepts (bench/imaging_cost.py measured each kind), and the
    # issue's JPEG scan bomb, which it refuses from its header.
    palette = bar_image(side(5000), side(5000)).convert("P")
    cases += [
        WorstCase(
            "25-MP palette PNG with transparency",
            upload("mnist-cnn", _save(palette, "PNG", transparency=255), "image/png"),
        ),
        WorstCase(
            "12.5-MP lossless WebP (the WebP cap)",
            upload("mnist-cnn", bar_webp(side(3535), side(3535)), "image/webp"),
        ),
        WorstCase(
            "25-MP progressive 4:4:4 JPEG of 32 scans (the scan cap)",
            upload("mnist-cnn", scan_bomb_jpeg(side(4999), 22, subsampling=0), "image/jpeg"),
        ),
        WorstCase(
            "JPEG scan bomb, 5,000 extra scans",
            upload("mnist-cnn", scan_bomb_jpeg(side(4999), 5000), "image/jpeg"),
        ),
    ]
    return cases
