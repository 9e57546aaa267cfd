"""A request's uploaded images -> one batch of MNIST-style digits: checked, then preprocessed.

Both steps are plain functions of bytes, run inline for small uploads and in a worker process
(app/core/compute.py) otherwise; an error names the image it is about.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from app.errors import InvalidImageError, PayloadTooLargeError
from app.imaging.preprocess import preprocess, probe

T = TypeVar("T")


def _each(
    step: Callable[[bytes, int], T], payloads: list[bytes], first: int, numbered: bool, limit: int
) -> list[T]:
    results = []
    for index, data in enumerate(payloads, start=first):
        try:
            results.append(step(data, limit))
        except (InvalidImageError, PayloadTooLargeError) as exc:
            exc.details = [{"loc": ["file", index], "message": str(exc)}]
            if numbered:
                exc.args = (f"file[{index}]: {exc}",)
            raise
    return results


def probe_all(payloads: list[bytes], numbered: bool, max_pixels: int) -> list[int]:
    """Each image's pixel count, from its header; 413 or 422 naming the first bad one."""
    return _each(probe, payloads, 0, numbered, max_pixels)


def preprocess_all(
    payloads: list[bytes], first: int, numbered: bool, max_pixels: int
) -> npt.NDArray[np.float64]:
    """The images as a (n, 28, 28) stack; `first` is the index of the first in the request."""
    return np.stack(_each(preprocess, payloads, first, numbered, max_pixels))
