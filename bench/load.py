"""Drive a server with wrk over loopback and read its throughput and latency percentiles."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.servers import pin

# wrk calls done() once at the end; it prints one JSON line the runner parses. The status
# counts come from response(), which is only defined when asked for: a Lua call per response
# would slow wrk down on the fast scenarios.
SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "%(content_type)s"
%(headers)s
local file = io.open("%(body_path)s", "rb")
wrk.body = file:read("*all")
file:close()

local threads = {}
setup = function(thread) table.insert(threads, thread) end
%(response)s
done = function(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses") or {}) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%%d": %%d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, "errors": %%d, "non_2xx": %%d, "statuses": {%%s}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status, table.concat(parts, ", ")))
end
"""
COUNT_STATUSES = """
statuses = {}
response = function(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
"""


@dataclass(frozen=True)
class Request:
    """One scenario's HTTP request: path, body and content type."""

    path: str
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()  # more request headers


@dataclass(frozen=True)
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def median_result(results: list[LoadResult]) -> LoadResult:
    """The median of several runs' figures (requests and errors summed)."""
    return LoadResult(
        requests_per_second=statistics.median(r.requests_per_second for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        requests=sum(r.requests for r in results),
        errors=sum(r.errors for r in results),
    )


def ensure_wrk() -> str:
    """The wrk binary; installed from the distribution (apt-get) when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        subprocess.run([*sudo, *command], check=True, timeout=600)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and apt-get could not install it")
    return found


def check(base_url: str, request: Request, timeout_seconds: float = 10) -> bytes:
    """Send the request once: a scenario that fails (non-2xx) must not be timed."""
    sent = urllib.request.Request(
        base_url + request.path,
        data=request.body,
        method="POST",
        headers={"Content-Type": request.content_type, **dict(request.headers)},
    )
    with urllib.request.urlopen(sent, timeout=timeout_seconds) as response:
        body: bytes = response.read()
        return body


def run_wrk(
    base_url: str, request: Request, connections: int, seconds: float, cpu: int | None
) -> LoadResult:
    """`connections` clients, each sending the request again as soon as it is answered."""
    return to_result(wrk(base_url, request, connections, seconds, cpu))


def wrk(
    base_url: str,
    request: Request,
    connections: int,
    seconds: float,
    cpu: int | None,
    count_statuses: bool = False,
    timeout_seconds: float = 5.0,
) -> dict[str, Any]:
    """One wrk run's summary as its script prints it; `statuses` is filled if counted."""
    binary = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        body_path = Path(folder) / "body"
        body_path.write_bytes(request.body)
        script = Path(folder) / "scenario.lua"
        script.write_text(
            SCRIPT
            % {
                "content_type": request.content_type,
                "headers": "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in request.headers),
                "body_path": body_path,
                "response": COUNT_STATUSES if count_statuses else "",
            }
        )
        command = [
            *pin(cpu),
            binary,
            "-t1",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--timeout",
            f"{timeout_seconds:g}s",
            "-s",
            str(script),
            base_url + request.path,
        ]
        output = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + timeout_seconds + 30,
        ).stdout
    summary: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return summary


def to_result(summary: dict[str, Any]) -> LoadResult:
    """Throughput and latency from a wrk summary."""
    return LoadResult(
        requests_per_second=summary["requests"] / (summary["duration_us"] / 1e6),
        p50_ms=summary["p50_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        requests=summary["requests"],
        errors=summary["errors"] + summary["non_2xx"],
    )
