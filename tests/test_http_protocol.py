"""Request heads are capped and timed before the app sees them: `python -m app`, raw sockets."""

from __future__ import annotations

import io
import json
import pickle
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from uvicorn.config import Config

from app.front.http_protocol import http_protocol
from app.settings import Settings
from tests.helpers import IRIS_ROW, ServerProcess

TIMEOUT_SECONDS = 1
MAX_HEAD_BYTES = 4096
# Generous: these tests only say that the server closed the connection at all, not how fast.
CLOSED_WITHIN_SECONDS = 10


@pytest.fixture(scope="module")
def server(quick_registry: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(
        quick_registry,
        client_timeout_seconds=str(TIMEOUT_SECONDS),
        max_header_bytes=str(MAX_HEAD_BYTES),
        reload_interval_seconds="0",  # no registry scans: the server reads only what we send
    )
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def connect(server: ServerProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=CLOSED_WITHIN_SECONDS)


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes; a socket timeout fails the test."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def read_response(stream: io.BufferedReader) -> tuple[int, dict[str, str], bytes]:
    """One response (status, headers, body) off `sock.makefile("rb")`; the connection stays."""
    status_line = stream.readline()
    assert status_line, "closed before a response"
    headers = {}
    while (line := stream.readline()) != b"\r\n":
        assert line, "closed mid-head"
        name, value = line.decode().rstrip("\r\n").split(": ", 1)
        headers[name.lower()] = value
    body = stream.read(int(headers["content-length"]))
    return int(status_line.split()[1]), headers, body


def head_of(size: int) -> bytes:
    """A GET /health/live head of exactly `size` bytes, padded with one long header."""
    start = b"GET /health/live HTTP/1.1\r\nHost: test\r\nX-Pad: "
    return start + b"a" * (size - len(start) - 4) + b"\r\n\r\n"


def predict_request(rows: int, close: bool = False) -> bytes:
    body = json.dumps({"instances": [IRIS_ROW] * rows}).encode()
    head = (
        "POST /v1/models/iris-svm/predict HTTP/1.1\r\nHost: test\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        + ("Connection: close\r\n" if close else "")
        + "\r\n"
    )
    return head.encode() + body


def assert_refused(received: bytes, status: int, code: str) -> None:
    head, body = received.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    assert lines[0].split()[1] == str(status)
    assert "connection: close" in lines
    assert "x-content-type-options: nosniff" in lines
    assert json.loads(body)["error"]["code"] == code


def test_head_at_the_cap_is_served(server: ServerProcess) -> None:
    with connect(server) as sock, sock.makefile("rb") as stream:
        sock.sendall(head_of(MAX_HEAD_BYTES))
        status, _, body = read_response(stream)
    assert status == 200 and json.loads(body) == {"status": "live"}


def test_head_over_the_cap_gets_431_and_is_closed(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(head_of(MAX_HEAD_BYTES + 1))
        assert_refused(read_until_closed(sock), 431, "header_too_large")


def read_bytes(server: ServerProcess) -> int:
    """Bytes the server process has read so far (sockets included), from /proc."""
    for line in Path(f"/proc/{server.process.pid}/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar")


def test_endless_head_is_cut_off_near_the_cap_without_growing_memory(
    server: ServerProcess,
) -> None:
    read_before, rss_before = read_bytes(server), server.rss_bytes()
    header_line = b"X-Filler: " + b"a" * 1000 + b"\r\n"
    sent = 0
    with connect(server) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: test\r\n")
        try:
            while sent < 16 * 2**20:  # bounded; the server stops reading long before
                sock.sendall(header_line * 64)
                sent += len(header_line) * 64
        except OSError:  # reset: the server answered and closed
            pass
        try:
            answer = read_until_closed(sock)
        except ConnectionResetError:
            answer = b""
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 ")
    # One read (uvloop reads up to 256 KiB at a time) may bring more than the cap; no more.
    assert read_bytes(server) - read_before < MAX_HEAD_BYTES + 512 * 1024
    assert server.rss_bytes() - rss_before < 4 * 2**20


@pytest.mark.parametrize(
    "partial_head",
    [b"GET /health/li", b"GET /health/live HTTP/1.1\r\nHost: test\r\n"],
    ids=["half a request line", "headers without their end"],
)
def test_head_not_complete_in_time_gets_408_and_is_closed(
    server: ServerProcess, partial_head: bytes
) -> None:
    with connect(server) as sock:
        sock.sendall(partial_head)
        assert_refused(read_until_closed(sock), 408, "request_timeout")


def test_connection_that_sends_nothing_is_closed_without_an_answer(server: ServerProcess) -> None:
    with connect(server) as sock:
        assert read_until_closed(sock) == b""


def test_slow_clients_do_not_hold_up_others(server: ServerProcess) -> None:
    slow = [connect(server) for _ in range(8)]
    try:
        for index, sock in enumerate(slow):
            sock.sendall(b"POST /v1/models/iris-svm/predict HTTP/1.1\r\n"[: 10 + index])
        assert httpx.get(f"{server.base_url}/health/live").status_code == 200
        response = httpx.post(
            f"{server.base_url}/v1/models/iris-svm/predict", json={"instances": [IRIS_ROW]}
        )
        assert response.status_code == 200
    finally:
        for sock in slow:
            sock.close()


def test_keep_alive_client_pausing_less_than_the_timeout_is_served(server: ServerProcess) -> None:
    # Several requests on one connection, each head sent in two parts: pauses shorter than
    # the timeout, that add up to more than it, end nothing.
    pause_seconds = TIMEOUT_SECONDS * 0.6
    with connect(server) as sock, sock.makefile("rb") as stream:
        for _ in range(4):
            request = predict_request(rows=2)
            sock.sendall(request[:20])
            time.sleep(pause_seconds)
            sock.sendall(request[20:])
            status, headers, _ = read_response(stream)
            assert status == 200 and headers.get("connection") != "close"
            time.sleep(pause_seconds)


def test_pipelined_requests_with_bodies_over_the_cap_are_served(server: ServerProcess) -> None:
    # Heads and bodies in one write: the body bytes after a head never count against the cap.
    requests = predict_request(rows=300) * 2 + predict_request(rows=300, close=True)
    assert len(requests) > 3 * MAX_HEAD_BYTES
    with connect(server) as sock, sock.makefile("rb") as stream:
        sock.sendall(requests)
        statuses = [read_response(stream)[0] for _ in range(3)]
        assert stream.read() == b""
    assert statuses == [200, 200, 200]


def test_protocol_settings_survive_pickling_into_spawned_workers() -> None:
    # With workers > 1 uvicorn pickles its Config into each spawned worker process.
    settings = Settings(client_timeout_seconds=3, max_header_bytes=2048)
    config = pickle.loads(pickle.dumps(Config("app.main:create_app", http=http_protocol(settings))))
    assert config.http.keywords["settings"] == settings  # type: ignore[union-attr]
