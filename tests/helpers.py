"""Helpers shared by the test modules."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx
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


REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """`python -m app` in its own process on a free loopback port, as in production."""

    def __init__(
        self, registry: Path, environment: dict[str, str] | None = None, **settings: str
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "SERVING_MODELS_DIR": str(registry),
            "SERVING_PORT": str(self.port),
            "SERVING_LOG_LEVEL": "warning",
        }
        env.update({f"SERVING_{key.upper()}": value for key, value in settings.items()})
        env.update(environment or {})
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app"], cwd=REPO, env=env, stdout=self.log, stderr=self.log
        )

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited early: {self.output()}")
            try:
                if httpx.get(f"{self.base_url}/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("server not ready in time")

    def rss_bytes(self) -> int:
        """Resident memory of the server process, from /proc."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # a clean stop: the server ends its worker processes
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait(timeout=10)
        self.log.close()


def noisy_photo_png(side: int) -> bytes:
    """A side x side PNG of grey sensor noise (sigma 20) with a dark cross: work for the photo
    path of preprocessing (pure noise is refused early, as blank)."""
    picture = Image.effect_noise((side, side), 20).convert("L")
    picture.paste(20, (side // 4, side // 2 - side // 30, 3 * side // 4, side // 2 + side // 30))
    picture.paste(20, (side // 2 - side // 30, side // 4, side // 2 + side // 30, 3 * side // 4))
    return png_bytes(picture)
