"""The request bodies of the scenarios: Iris rows, an MNIST digit as numbers and as PNGs."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from training.datasets.idx import read_idx
from training.datasets.mnist import locate

IRIS_ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5], [6.3, 2.9, 5.6, 1.8]]
BOUNDARY = "benchboundary7MA4YWxkTrZu0gW"


def json_body(rows: list[list[float]] | list[list[int]]) -> bytes:
    return json.dumps({"instances": rows}, separators=(",", ":")).encode()


def iris_rows(count: int) -> list[list[float]]:
    return [IRIS_ROWS[i % len(IRIS_ROWS)] for i in range(count)]


def mnist_digit(mnist_dir: Path | None) -> np.ndarray:
    """The first MNIST test image (a 7), 28x28 uint8 with bright ink."""
    folder = locate(mnist_dir)
    return read_idx(folder / "t10k-images-idx3-ubyte.gz", 3)[0]


def mnist_digits(mnist_dir: Path | None, count: int) -> np.ndarray:
    """The first `count` MNIST test images, (count, 28, 28) uint8."""
    images: np.ndarray = read_idx(locate(mnist_dir) / "t10k-images-idx3-ubyte.gz", 3)
    return images[:count]


def v2_json(data: list[Any], datatype: str) -> bytes:
    """A V2 infer body: one tensor, nested as `data` is, all outputs as JSON."""
    shape = list(np.shape(data))
    tensor = {"name": "input", "shape": shape, "datatype": datatype, "data": data}
    return json.dumps({"inputs": [tensor]}, separators=(",", ":")).encode()


def v2_binary(array: np.ndarray) -> tuple[bytes, int]:
    """A V2 infer body with the tensor in binary (UINT8) after the JSON header, and that
    header's length; all outputs as binary, as tritonclient asks by default."""
    data = array.astype("<u1").tobytes()
    header = {
        "inputs": [
            {
                "name": "input",
                "shape": list(array.shape),
                "datatype": "UINT8",
                "parameters": {"binary_data_size": len(data)},
            }
        ],
        "parameters": {"binary_data_output": True},
    }
    head = json.dumps(header, separators=(",", ":")).encode()
    return head + data, len(head)


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def digit_png_28(digit: np.ndarray) -> bytes:
    """The digit as a 28x28 greyscale PNG, as MNIST stores it."""
    return png(Image.fromarray(digit, mode="L"))


def digit_png_280_rgba(digit: np.ndarray) -> bytes:
    """The digit drawn 10x larger in black on a transparent canvas, as a drawing app saves it."""
    alpha = Image.fromarray(digit, mode="L").resize((280, 280), Image.Resampling.BILINEAR)
    canvas = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    canvas.putalpha(alpha)
    return png(canvas)


def multipart(file_bytes: bytes, content_type: str = "image/png") -> tuple[bytes, str]:
    """One `file` part, as `curl -F file=@digit.png` sends it; returns body and content type."""
    return multipart_files([(file_bytes, content_type)])


def multipart_files(files: list[tuple[bytes, str]]) -> tuple[bytes, str]:
    """A `file` part for each (bytes, content type), as `curl -F file=@a -F file=@b` sends
    them; returns body and content type."""
    parts = [
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="digit.png"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        + file_bytes
        + b"\r\n"
        for file_bytes, content_type in files
    ]
    body = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    return body, f"multipart/form-data; boundary={BOUNDARY}"
