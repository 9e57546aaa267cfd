"""/health/live under hostile load: wrk keeps uploading huge pictures while a prober times the
liveness check on its own connection."""

from __future__ import annotations

import http.client
import math
import os
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bench.load import Request, wrk

PROBE_PATH = "/health/live"
PROBE_INTERVAL_SECONDS = 0.015
PROBE_TIMEOUT_SECONDS = 5.0
# wrk's clients connect and the first uploads reach the server before the probes start.
RAMP_SECONDS = 1.0
# A slow upload answer is a figure to report, not a wrk error.
UPLOAD_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class LivenessResult:
    """The probes' latencies and the uploads' outcome over the same stretch of time."""

    probes: int
    probes_failed: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    probe_seconds: float
    upload_clients: int
    uploads_per_second: float
    upload_statuses: dict[str, int]
    upload_errors: int


def percentile(values: list[float], percent: float) -> float:
    """The nearest-rank percentile: the smallest value with `percent` % of them at or below it."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def probe(
    base_url: str, seconds: float, cpu: int | None, request: Request | None = None
) -> tuple[list[float], int]:
    """GET /health/live (or POST `request`) every PROBE_INTERVAL_SECONDS on one kept-alive
    connection for `seconds`; the latencies in ms (a failed probe counts with the time it took)
    and how many failed."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})  # this thread only: the prober shares wrk's core
    address = urlsplit(base_url)
    host, port = address.hostname or "127.0.0.1", address.port or 80

    def connect() -> http.client.HTTPConnection:
        return http.client.HTTPConnection(host, port, timeout=PROBE_TIMEOUT_SECONDS)

    connection = connect()
    latencies: list[float] = []
    failed = 0
    end = time.perf_counter() + seconds
    next_at = time.perf_counter()
    while next_at < end:
        time.sleep(max(0.0, next_at - time.perf_counter()))
        sent = time.perf_counter()
        try:
            if request is None:
                connection.request("GET", PROBE_PATH)
            else:
                headers = {"Content-Type": request.content_type}
                connection.request("POST", request.path, request.body, headers)
            response = connection.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
            connection.close()
            connection = connect()
        latencies.append((time.perf_counter() - sent) * 1000)
        failed += not ok
        # A fixed cadence, but a late probe does not make the next ones bunch up.
        next_at = max(next_at + PROBE_INTERVAL_SECONDS, time.perf_counter())
    connection.close()
    return latencies, failed


def measure_liveness(
    base_url: str, upload: Request, clients: int, seconds: float, load_cpu: int | None
) -> LivenessResult:
    """`clients` wrk connections upload `upload` back to back; the prober runs meanwhile."""
    summaries: list[dict[str, Any]] = []
    uploads = threading.Thread(
        target=lambda: summaries.append(
            wrk(
                base_url,
                upload,
                clients,
                seconds + 2 * RAMP_SECONDS,
                load_cpu,
                count_statuses=True,
                timeout_seconds=UPLOAD_TIMEOUT_SECONDS,
            )
        ),
        name="uploads",
    )
    uploads.start()
    time.sleep(RAMP_SECONDS)
    probes: list[tuple[list[float], int]] = []
    prober = threading.Thread(
        target=lambda: probes.append(probe(base_url, seconds, load_cpu)), name="prober"
    )
    prober.start()
    prober.join()
    uploads.join()
    if not summaries or not probes:
        raise RuntimeError("the uploads or the prober failed; see the traceback above")
    summary = summaries[0]
    latencies, failed = probes[0]
    return LivenessResult(
        probes=len(latencies),
        probes_failed=failed,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        max_ms=max(latencies, default=math.nan),
        probe_seconds=seconds,
        upload_clients=clients,
        uploads_per_second=summary["requests"] / (summary["duration_us"] / 1e6),
        upload_statuses={str(k): v for k, v in sorted(summary["statuses"].items())},
        upload_errors=summary["errors"],
    )
