"""A soak: many mixed requests, valid and invalid, across every endpoint of a running server.

Used by tests/test_faults.py (a short run) and on its own for the long one:
    .venv/bin/python -m tests.soak --requests 100000 --registry models
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
from PIL import Image

from tests.helpers import IRIS_ROW, ServerProcess, png_bytes

JSON = {"content-type": "application/json"}


def request_mix(digit_png: bytes) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, httpx arguments): about half valid, half each kind of mistake."""
    iris = "/v1/models/iris-logistic-regression/predict"
    named = dict(
        zip(["sepal_length", "sepal_width", "petal_length", "petal_width"], IRIS_ROW, strict=True)
    )
    return [
        ("GET", "/v1/models", {}),
        ("GET", "/v1/models/iris-svm", {}),
        ("GET", "/v1/models/mnist-cnn/versions/1", {}),
        ("GET", "/v1/models/iris-knn/versions/1/plots/confusion_matrix.png", {}),
        ("GET", "/health/live", {}),
        ("GET", "/health/ready", {}),
        ("GET", "/metrics", {}),
        ("POST", iris, {"json": {"instances": [IRIS_ROW, named]}}),
        (
            "POST",
            "/v1/models/iris-random-forest/versions/1/predict",
            {"json": {"instances": [IRIS_ROW] * 64}},
        ),
        ("POST", "/v1/models/mnist-mlp/predict", {"json": {"instances": [[0] * 784]}}),
        ("POST", "/v1/models/mnist-cnn/predict/image", {"files": {"file": ("d.png", digit_png)}}),
        (
            "POST",
            "/v1/models/mnist-knn/predict/image",
            {"content": digit_png, "headers": {"content-type": "image/png"}},
        ),
        ("POST", iris, {"content": b'{"instances": [[1, 2', "headers": JSON}),
        ("POST", iris, {"content": b'{"instances": [[NaN, 1, 1, 1]]}', "headers": JSON}),
        ("POST", iris, {"json": {"instances": [["a", 1, 1, 1]]}}),
        ("POST", iris, {"json": {"instances": []}}),
        ("POST", iris, {"content": b"1,2,3,4", "headers": {"content-type": "text/csv"}}),
        ("POST", "/v1/models/nope/predict", {"json": {"instances": [IRIS_ROW]}}),
        ("GET", "/v1/models/iris-svm/versions/99", {}),
        (
            "POST",
            "/v1/models/mnist-cnn/predict/image",
            {"content": b"not an image", "headers": {"content-type": "image/png"}},
        ),
        ("POST", "/v1/models/iris-svm/predict/image", {"files": {"file": ("d.png", digit_png)}}),
        ("POST", "/v1/admin/reload", {"headers": {"authorization": "Bearer guess"}}),
        ("DELETE", "/v1/models", {}),
        ("GET", "/v1/models/..%2F..%2Fetc", {}),
    ]


@dataclass
class SoakReport:
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    rss_after_warmup: int = 0
    rss_at_end: int = 0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + sum(self.transport_errors.values())

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    @property
    def memory_growth(self) -> float:
        return self.rss_at_end / self.rss_after_warmup - 1


def soak(
    server: ServerProcess, total: int, clients: int = 8, warmup_fraction: float = 0.2
) -> SoakReport:
    """Send `total` requests from `clients` keep-alive connections; measure RSS after warm-up."""
    digit = Image.new("L", (28, 28), 0)
    digit.paste(255, (12, 4, 16, 24))
    mix = request_mix(png_bytes(digit))
    report = SoakReport()
    lock = threading.Lock()
    counter = itertools.count()
    warmup = int(total * warmup_fraction)

    def client_loop() -> None:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            while (index := next(counter)) < total:
                method, path, arguments = mix[index % len(mix)]
                try:
                    status: int | None = client.request(method, path, **arguments).status_code
                    error = None
                except httpx.TransportError as exc:
                    status, error = None, type(exc).__name__
                with lock:
                    if status is not None:
                        report.statuses[status] += 1
                    else:
                        report.transport_errors[str(error)] += 1
                    if index == warmup:
                        report.rss_after_warmup = server.rss_bytes()

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report.rss_at_end = server.rss_bytes()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--registry", type=Path, default=Path("models"))
    args = parser.parse_args(argv)
    server = ServerProcess(args.registry, admin_token="soak-token")
    try:
        server.wait_ready()
        report = soak(server, args.requests, args.clients)
    finally:
        server.stop()
    summary = {
        "requests": report.requests,
        "statuses": dict(sorted(report.statuses.items())),
        "server_errors": report.server_errors,
        "transport_errors": dict(report.transport_errors),
        "rss_after_warmup_mb": round(report.rss_after_warmup / 2**20, 1),
        "rss_at_end_mb": round(report.rss_at_end / 2**20, 1),
        "memory_growth_percent": round(100 * report.memory_growth, 2),
    }
    sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    ok = report.server_errors == 0 and not report.transport_errors and report.memory_growth < 0.05
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
