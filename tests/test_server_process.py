"""The real thing: uvicorn in its own process, started and stopped as in production."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.helpers import IRIS_ROW

REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(base: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited early with {process.returncode}")
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("server not ready in time")


@pytest.fixture
def server(quick_registry: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    env = {**os.environ, "SERVING_MODELS_DIR": str(quick_registry), "SERVING_PORT": str(port),
           "SERVING_LOG_LEVEL": "warning"}
    process = subprocess.Popen(
        [sys.executable, "-m", "app"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, process)
        yield base, process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stdout and not process.stdout.closed:
            process.stdout.close()


def test_uvicorn_serves_and_exits_cleanly_on_sigterm(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base, process = server
    response = httpx.post(f"{base}/v1/models/iris-svm/predict", json={"instances": [IRIS_ROW]})
    assert response.status_code == 200 and response.json()["predictions"][0]["label"] == "setosa"
    assert httpx.get(f"{base}/v1/models").json()["models"][0]["status"] == "ready"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert process.stdout is not None
    output = process.stdout.read().decode()
    process.stdout.close()
    assert "Traceback" not in output
