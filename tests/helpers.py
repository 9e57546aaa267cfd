"""Helpers shared by the test modules."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from app.main import create_app
from app.settings import Settings
from training.datasets.idx import read_idx

IRIS_ROW = [5.1, 3.5, 1.4, 0.2]


def make_client(registry: Path, **settings: object) -> TestClient:
    """An app over `registry`; use it in a `with` block so the lifespan runs."""
    options: dict[str, object] = {"reload_interval_seconds": 0, **settings}
    return TestClient(create_app(Settings(models_dir=registry, **options)))  # type: ignore[arg-type]


def mnist_digits(mnist_dir: Path, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The first `count` MNIST test images (28x28 uint8, ink bright) and their labels."""
    images = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz", 3)[:count]
    labels = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz", 1)[:count]
    return images, labels


def png_bytes(image: Image.Image, image_format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format)
    return buffer.getvalue()
