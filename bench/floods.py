"""Connection and body floods (issue 24, rows 1 and 2): /health/live probed while 150 clients
each send a 10 MB body less one byte and wait, then while 3,000 connections send 60 KB heads
and wait; the server's main-process RSS before, at its peak, and 20 s after."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.liveness import PROBE_TIMEOUT_SECONDS, percentile, probe
from bench.proctree import status_kb

MB = 1024 * 1024
BODY_CLIENTS = 150
BODY_BYTES = 10 * MB  # the default SERVING_MAX_BODY_BYTES
HEAD_CONNECTIONS = 3000
HEAD_BYTES = 60 * 1024
SETTLE_SECONDS = 20.0
# The targets, reported beside the figures.
SETTLED_MB = 150.0  # RSS 20 s after, over the start
LIVE_P99_MS = 50.0


@dataclass(frozen=True)
class FloodResult:
    name: str
    probes: int
    probes_failed: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    rss_start_mb: float
    rss_peak_mb: float
    rss_after_mb: float


def _rss_mb(pid: int) -> float:
    return (status_kb(pid, "VmRSS") or 0) / 1024


def answer_status(sock: socket.socket) -> str:
    """The status the server answered, or how the connection ended without one."""
    sock.settimeout(60)
    answer = b""
    try:
        while b"\r\n" not in answer and (chunk := sock.recv(4096)):
            answer += chunk
    except OSError:
        pass
    return answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/1.1 ") else "reset"


def _body_client(address: tuple[str, int], statuses: list[str]) -> None:
    with socket.create_connection(address, timeout=60) as sock:
        sock.sendall(
            b"POST /v1/models/iris-svm/predict HTTP/1.1\r\nHost: bench\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % BODY_BYTES
        )
        chunk = b" " * MB
        with contextlib.suppress(OSError):
            for _ in range(BODY_BYTES // MB - 1):
                sock.sendall(chunk)
            sock.sendall(chunk[:-1])
        statuses.append(answer_status(sock))


def _bodies(address: tuple[str, int]) -> list[str]:
    statuses: list[str] = []
    clients = [
        threading.Thread(target=_body_client, args=(address, statuses)) for _ in range(BODY_CLIENTS)
    ]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    return statuses


def _heads(address: tuple[str, int]) -> list[str]:
    head = b"GET /health/live HTTP/1.1\r\nHost: bench\r\nX-Padding: " + b"a" * HEAD_BYTES
    sockets = []
    try:
        for _ in range(HEAD_CONNECTIONS):
            sock = socket.create_connection(address, timeout=60)
            sockets.append(sock)
            with contextlib.suppress(OSError):
                sock.sendall(head)
        return [answer_status(sock) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _flood(name: str, base_url: str, pid: int, cpu: int | None) -> FloodResult:
    address = urlsplit(base_url)
    target = (address.hostname or "127.0.0.1", address.port or 80)
    attack = _bodies if name.startswith("150") else _heads
    start = peak = _rss_mb(pid)
    done = threading.Event()
    probes: list[tuple[list[float], int]] = []
    results: list[list[str]] = []

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, _rss_mb(pid))

    def run() -> None:
        results.append(attack(target))
        done.set()

    threads = [threading.Thread(target=sample), threading.Thread(target=run)]
    for thread in threads:
        thread.start()
    while not done.is_set():  # probe in stretches until the attack's connections are answered
        probes.append(probe(base_url, 2.0, cpu))
    for thread in threads:
        thread.join()
    time.sleep(SETTLE_SECONDS)
    latencies = [ms for stretch, _ in probes for ms in stretch]
    return FloodResult(
        name=name,
        probes=len(latencies),
        probes_failed=sum(failed for _, failed in probes),
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        max_ms=max(latencies, default=float("nan")),
        statuses=dict(sorted(Counter(results[0] if results else []).items())),
        rss_start_mb=start,
        rss_peak_mb=peak,
        rss_after_mb=_rss_mb(pid),
    )


def measure_floods(base_url: str, pid: int, cpu: int | None) -> list[FloodResult]:
    return [
        _flood(f"{BODY_CLIENTS} bodies of 10 MB less a byte", base_url, pid, cpu),
        _flood(f"{HEAD_CONNECTIONS} connections with 60 KB heads", base_url, pid, cpu),
    ]


def flood_lines(result: FloodResult) -> list[str]:
    statuses = ", ".join(f"{count} x {status}" for status, count in result.statuses.items())
    settled = result.rss_after_mb - result.rss_start_mb
    return [
        f"{result.name}: /health/live {result.probes} probes ({result.probes_failed} failed or "
        f"timed out after {PROBE_TIMEOUT_SECONDS:g} s), p50 {result.p50_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms (target <= {LIVE_P99_MS:g}), max {result.max_ms:.1f} ms",
        f"  main RSS {result.rss_start_mb:.0f} MB -> peak {result.rss_peak_mb:.0f} MB -> "
        f"{result.rss_after_mb:.0f} MB {SETTLE_SECONDS:g} s after ({settled:+.0f} MB; target "
        f"<= +{SETTLED_MB:g}); answers: {statuses}",
    ]
