"""What a body can make the server build is bounded before it is parsed: 10 MB of `[]`, `{}`,
`{"b64": ""}` or of columns holding millions of values are refused with 413 from a count of
their values, at a small cost in CPU and memory for the whole process tree, and the memory is
handed back. Against a real `python -m app`; CPU and memory from /proc, not wall time."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from bench.proctree import status_kb, tree
from tests.helpers import ServerProcess

MB = 1024 * 1024
BODY_BYTES = 10 * MB - 1024  # under SERVING_MAX_BODY_BYTES' default
# Generous bounds, well above what was measured (0.2 CPU-s, +60 MB) and well below what the
# same bodies cost when they were parsed (1.5 CPU-s, +330 MB, +270 MB left behind).
MAX_CPU_SECONDS = 1.0
MAX_GROWTH_BYTES = 150 * MB
TICKS = os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="module")
def server(quick_registry: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(quick_registry, reload_interval_seconds="0", compute_workers="1")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def _cpu_seconds(pid: int) -> float:
    """User and system time of the process tree (the server and its compute workers)."""
    total = 0.0
    for member in tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def _rss_bytes(pid: int) -> int:
    return sum((status_kb(member, "VmRSS") or 0) * 1024 for member in tree(pid))


def _repeated(prefix: str, item: str, suffix: str) -> bytes:
    count = (BODY_BYTES - len(prefix) - len(suffix)) // (len(item) + 1)
    return (prefix + ",".join([item] * count) + suffix).encode()


BODIES = {
    "native: [] rows": ("/v1/models/iris-svm/predict", _repeated('{"instances": [', "[]", "]}")),
    "native: {} rows": ("/v1/models/iris-svm/predict", _repeated('{"instances": [', "{}", "]}")),
    "TF Serving: b64 rows": (
        "/v1/models/mnist-cnn:predict",
        _repeated('{"instances": [', '{"b64": ""}', "]}"),
    ),
    "TF Serving: columns of 2.4 M values": (
        "/v1/models/iris-svm:predict",
        _repeated('{"inputs": {"sepal_length": [', "1.5", "]}}"),
    ),
    "V2: a JSON tensor of 2.4 M values": (
        "/v2/models/iris-svm/infer",
        _repeated(
            '{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [',
            "1.5",
            "]}]}",
        ),
    ),
}


@pytest.mark.parametrize("name", list(BODIES))
def test_a_body_of_millions_of_values_is_refused_before_it_is_parsed(
    server: ServerProcess, name: str
) -> None:
    path, body = BODIES[name]
    pid = server.process.pid
    # A first large body on this route, so the worker has imported its decoder (0.5 CPU-s once).
    warm = httpx.post(server.base_url + path, content=b"{}" + b" " * 70_000, timeout=30)
    assert 400 <= warm.status_code < 500
    cpu, rss = _cpu_seconds(pid), _rss_bytes(pid)
    response = httpx.post(
        server.base_url + path,
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 413, response.text
    assert "JSON values" in response.text
    assert _cpu_seconds(pid) - cpu <= MAX_CPU_SECONDS
    assert _rss_bytes(pid) - rss <= MAX_GROWTH_BYTES
    assert httpx.get(server.base_url + "/health/live", timeout=5).status_code == 200
