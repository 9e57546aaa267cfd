"""Payload capture to a URL: CloudEvents as KServe's payload logger sends them, to a real local
HTTP receiver; a receiver that stalls, answers 500 or is not there never delays a response, and
what could not be sent is counted."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import IRIS_ROW, free_port, make_client
from tests.observability.conftest import IRIS, until

ROW = {"instances": [IRIS_ROW]}


class Receiver(ThreadingHTTPServer):
    """A local HTTP endpoint: `ok` keeps each event (answered with an empty body, `chunked` with
    a chunked one, `close` with one that ends with the connection), `500` answers 500, `stall`
    never answers (within a minute)."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, mode: str) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.mode = mode
        self.events: list[tuple[dict[str, str], Any]] = []
        self.released = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/events"


class Handler(BaseHTTPRequestHandler):
    server: Receiver
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.server.mode == "stall":
            self.server.released.wait(60)
            return
        if self.server.mode == "500":
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        headers = {key.lower(): value for key, value in self.headers.items()}
        self.server.events.append((headers, json.loads(body)))
        self.send_response(202)
        if self.server.mode == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"8\r\naccepted\r\n0\r\n\r\n")
        elif self.server.mode == "close":
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"accepted, and the connection ends here")
            self.close_connection = True
        else:
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    server = Receiver(getattr(request, "param", "ok"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.released.set()
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("receiver", ["ok", "chunked", "close"], indirect=True)
def test_each_request_is_a_request_and_a_response_cloudevent(
    payload_models: Path, receiver: Receiver
) -> None:
    with make_client(payload_models, payload_log=receiver.url) as client:
        for i in range(3):
            response = client.post(
                f"/v1/models/{IRIS}/versions/1/predict", json=ROW, headers={"X-Request-Id": f"e{i}"}
            )
            assert response.status_code == 200
        until(lambda: client.get("/health/ready").json()["payloads"]["written"] == 3)
        status = client.get("/health/ready").json()["payloads"]
    assert status["sink"] == f"url {receiver.url}" and status["dropped"] == 0
    assert len(receiver.events) == 6
    for i in range(3):
        (asked, question), (answered, answer) = receiver.events[2 * i : 2 * i + 2]
        for headers in (asked, answered):
            assert headers["ce-specversion"] == "1.0"
            assert headers["ce-id"] == f"e{i}"
            assert headers["ce-source"] == f"/v1/models/{IRIS}/versions/1"
            assert headers["ce-inferenceservicename"] == IRIS
            assert headers["ce-endpoint"] == "pinned"
            assert headers["content-type"] == "application/json"
            assert datetime.fromisoformat(headers["ce-time"].replace("Z", "+00:00"))
        assert asked["ce-type"] == "org.kubeflow.serving.inference.request"
        assert answered["ce-type"] == "org.kubeflow.serving.inference.response"
        assert answered["ce-time"] >= asked["ce-time"]
        assert question["id"] == f"e{i}" and question["model"] == IRIS
        assert list(question["inputs"].values()) == [[value] for value in IRIS_ROW]
        assert answer["id"] == f"e{i}" and answer["outputs"]["label"] == ["setosa"]
        assert "inputs" not in answer and "outputs" not in question


def _timed(client: Any, requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        response = client.post(f"/v1/models/{IRIS}/predict", json=ROW)
        assert response.status_code == 200
    return time.perf_counter() - started


def _dropped(client: Any) -> dict[str, float]:
    counts = {}
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("serving_payloads_dropped_total{"):
            reason = line.split('reason="', 1)[1].split('"', 1)[0]
            counts[reason] = float(line.rsplit(" ", 1)[1])
    return counts


@pytest.mark.parametrize("receiver", ["stall", "500"], indirect=True)
def test_a_receiver_that_stalls_or_fails_never_delays_responses(
    payload_models: Path, receiver: Receiver
) -> None:
    requests = 300
    with make_client(payload_models) as client:
        _timed(client, 20)  # warm
        without = _timed(client, requests)
    # A small queue: it fills while the sender waits on the receiver.
    with make_client(payload_models, payload_log=receiver.url, payload_queue_rows=16) as client:
        _timed(client, 20)
        captured = _timed(client, requests)
        # 500: the events are refused (after retries); stall: the sender waits on the first one.
        reason = "sink_failed" if receiver.mode == "500" else "queue_full"
        until(lambda: _dropped(client).get(reason, 0) > 0)
        dropped = _dropped(client)
        status = client.get("/health/ready")
    assert captured < 2 * without + 0.5, (captured, without)
    assert status.status_code == 200
    if receiver.mode == "500":
        problem = status.json()["payloads"]["problem"]["message"]
        assert f"{receiver.url} answered 500" in problem
    else:
        assert dropped["queue_full"] > requests // 2


def test_a_receiver_that_is_not_there_is_reported_in_ready(payload_models: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/events"
    with make_client(payload_models, payload_log=url) as client:
        for _ in range(5):
            assert client.post(f"/v1/models/{IRIS}/predict", json=ROW).status_code == 200

        def reported() -> bool:
            return "problem" in client.get("/health/ready").json()["payloads"]

        until(reported)
        ready = client.get("/health/ready")
        dropped = _dropped(client)
    assert ready.status_code == 200
    assert f"cannot send payloads to {url}" in ready.json()["payloads"]["problem"]["message"]
    assert dropped["sink_failed"] >= 1


def test_credentials_in_the_url_are_sent_but_never_shown(
    payload_models: Path, receiver: Receiver
) -> None:
    url = receiver.url.replace("http://", "http://user:pa%3Ass@") + "?token=abc"
    with make_client(payload_models, payload_log=url) as client:
        client.post(f"/v1/models/{IRIS}/predict", json=ROW)
        until(lambda: len(receiver.events) == 2)
        shown = client.get("/health/ready").json()["payloads"]["sink"]
    assert shown == f"url {receiver.url}"
    assert receiver.events[0][0]["authorization"] == "Basic dXNlcjpwYTpzcw=="  # user:pa:ss
