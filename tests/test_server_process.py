"""The real thing: `python -m app` in its own process, started and stopped as in production."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.helpers import IRIS_ROW, ServerProcess, noisy_photo_png


@pytest.fixture
def server(quick_registry: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(quick_registry)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_serves_and_exits_cleanly_on_sigterm(server: ServerProcess) -> None:
    response = httpx.post(
        f"{server.base_url}/v1/models/iris-svm/predict", json={"instances": [IRIS_ROW]}
    )
    assert response.status_code == 200 and response.json()["predictions"][0]["label"] == "setosa"
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=20) == 0
    assert "Traceback" not in server.output()


def test_sigterm_lets_requests_in_flight_finish_and_refuses_new_ones(
    server: ServerProcess,
) -> None:
    image = noisy_photo_png(500)
    files = [("file", (f"{i}.png", image)) for i in range(25)]  # a second or so of work each
    results: list[int | str] = []
    started = threading.Barrier(7)

    def slow_request() -> None:
        with httpx.Client(timeout=60) as client:
            started.wait()
            try:
                response = client.post(
                    f"{server.base_url}/v1/models/mnist-cnn/predict/image", files=files
                )
                results.append(response.status_code)
            except httpx.TransportError as exc:
                results.append(type(exc).__name__)

    threads = [threading.Thread(target=slow_request) for _ in range(6)]
    for thread in threads:
        thread.start()
    started.wait()
    # Let the uploads arrive; the server is busy with them when the signal comes.
    time.sleep(0.8)
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.base_url}/health/live", timeout=2)
    for thread in threads:
        thread.join(timeout=60)
    assert results == [200] * 6
    assert server.process.wait(timeout=30) == 0
