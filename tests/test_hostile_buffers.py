"""What clients make the server hold is bounded for the whole process: connections beyond the cap
(the one waiting longest for its head makes room) and bytes beyond the buffer budget are refused
(503, Retry-After), and the memory they took is handed back once they are gone. Against a real
`python -m app`, over raw sockets."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from bench.floods import answer_status
from tests.helpers import ServerProcess

MB = 1024 * 1024
BUDGET_BYTES = 128 * MB  # the default SERVING_MAX_BUFFERED_BYTES
BODY_BYTES = 10 * MB  # the default SERVING_MAX_BODY_BYTES
CLIENT_TIMEOUT_SECONDS = 2
# RSS must come back within this much of where it started (issue 24's target).
SETTLED_BYTES = 150 * MB


@pytest.fixture
def server(quick_registry: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(
        quick_registry,
        client_timeout_seconds=str(CLIENT_TIMEOUT_SECONDS),
        reload_interval_seconds="0",
        compute_workers="1",
    )
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


class PeakRss:
    """Samples the server's RSS in a thread while the attack runs."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.peak = server.rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.server.rss_bytes())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def settled_rss(server: ServerProcess, start: int, seconds: float = 20) -> int:
    """The server's RSS once within SETTLED_BYTES of `start`, or after `seconds`."""
    deadline = time.monotonic() + seconds
    while (rss := server.rss_bytes()) - start > SETTLED_BYTES and time.monotonic() < deadline:
        time.sleep(0.5)
    return rss


def _send_body_but_one_byte(port: int, statuses: list[str]) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(
            b"POST /v1/models/iris-svm/predict HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % BODY_BYTES
        )
        chunk = b" " * MB
        try:
            for _ in range(9):
                sock.sendall(chunk)
            sock.sendall(chunk[:-1])  # one byte short: the server waits for it
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused and closed while sending
        statuses.append(answer_status(sock))


def test_150_bodies_of_10_mb_beyond_the_budget_are_refused_and_memory_comes_back(
    server: ServerProcess,
) -> None:
    start = server.rss_bytes()
    statuses: list[str] = []
    clients = [
        threading.Thread(target=_send_body_but_one_byte, args=(server.port, statuses))
        for _ in range(150)
    ]
    with PeakRss(server) as rss:
        for client in clients:
            client.start()
        for client in clients:
            client.join(timeout=120)
    assert len(statuses) == 150
    # Those that fit (twelve at a time) waited for their last byte (408), the rest were refused
    # for want of room: how many of each depends on when each client came.
    assert set(statuses) <= {"408", "503", "reset"}, statuses
    assert statuses.count("408") >= 1 and statuses.count("503") >= 75, statuses
    # Before: 150 x 10 MB held at once, +1.4 GB.
    assert rss.peak - start < 2 * BUDGET_BYTES + 100 * MB, (start, rss.peak)
    after = settled_rss(server, start)
    assert after - start <= SETTLED_BYTES, (start, rss.peak, after)
    assert "Traceback" not in server.output()


def test_3000_connections_with_60_kb_heads_are_capped(server: ServerProcess) -> None:
    head = b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * (60 * 1024)
    start = server.rss_bytes()
    sockets: list[socket.socket] = []
    statuses: list[str] = []
    try:
        with PeakRss(server) as rss:
            for _ in range(3000):
                sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
                sockets.append(sock)
                # Never finished: the server holds it until its deadline, or refused it.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    sock.sendall(head)
            # At the cap, a new connection (a liveness probe's) closes the one that has waited
            # longest for its head: the server stays reachable.
            probe = httpx.get(f"{server.base_url}/health/live", timeout=30)
            statuses = [answer_status(sock) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
    assert probe.status_code == 200
    # At most 1,000 (the default SERVING_MAX_CONNECTIONS) held at once, each until its
    # deadline (408) or until a newer connection needed its place (503).
    assert set(statuses) <= {"408", "503", "reset"}, set(statuses)
    assert statuses.count("503") >= 1000, set(statuses)
    # Before: +424 MB.
    assert rss.peak - start < BUDGET_BYTES + 100 * MB, (start, rss.peak)
    after = settled_rss(server, start)
    assert after - start <= SETTLED_BYTES, (start, rss.peak, after)
