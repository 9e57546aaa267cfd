"""Micro-batching: concurrent requests share runtime calls, and each gets its own rows back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from app.core.batching import Batchers
from app.runtimes.base import Array, Batch, Runtime
from app.runtimes.onnx import OnnxRuntime
from tests.helpers import IRIS_ROW, make_client


class CountingRuntime:
    """A real runtime that records the size of every batch it scores."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.calls: list[int] = []

    def predict_proba(self, batch: Batch) -> Array:
        self.calls.append(len(batch))
        return self.runtime.predict_proba(batch)


class FailingRuntime:
    def predict_proba(self, batch: Batch) -> Array:
        raise ValueError("model failed")


@pytest.fixture
def runtime(quick_registry: Path) -> CountingRuntime:
    artifact = quick_registry / "iris-logistic-regression" / "1" / "model.onnx"
    return CountingRuntime(OnnxRuntime.load(artifact.read_bytes()))


def _requests(count: int) -> list[np.ndarray]:
    """Distinct requests of 1 to 3 rows, so a mix-up would show."""
    rng = np.random.default_rng(0)
    return [rng.uniform(0.1, 7.0, size=(1 + i % 3, 4)) for i in range(count)]


async def _concurrently(
    batchers: Batchers, runtime: Runtime, requests: list[np.ndarray]
) -> list[Array]:
    return await asyncio.gather(*(batchers.predict_proba(runtime, rows) for rows in requests))


def test_concurrent_requests_share_calls_and_get_their_own_rows(runtime: CountingRuntime) -> None:
    requests = _requests(20)
    results = asyncio.run(_concurrently(Batchers(True, 64, 50.0), runtime, requests))
    assert len(runtime.calls) < len(requests)  # coalesced
    assert sum(runtime.calls) == sum(len(rows) for rows in requests)
    for rows, got in zip(requests, results, strict=True):
        np.testing.assert_allclose(got, runtime.runtime.predict_proba(rows), atol=1e-12)


def test_batches_never_exceed_max_batch_size(runtime: CountingRuntime) -> None:
    requests = _requests(30)
    results = asyncio.run(_concurrently(Batchers(True, 5, 50.0), runtime, requests))
    assert max(runtime.calls) <= 5
    assert [len(r) for r in results] == [len(rows) for rows in requests]


def test_a_request_larger_than_max_batch_size_is_scored_alone(runtime: CountingRuntime) -> None:
    rows = _requests(1)[0].repeat(10, axis=0)
    (got,) = asyncio.run(_concurrently(Batchers(True, 4, 50.0), runtime, [rows]))
    assert runtime.calls == [10] and got.shape == (10, 3)


def test_batching_off_calls_the_runtime_once_per_request(runtime: CountingRuntime) -> None:
    requests = _requests(6)
    asyncio.run(_concurrently(Batchers(False, 64, 50.0), runtime, requests))
    assert runtime.calls == [len(rows) for rows in requests]


def test_a_failing_batch_fails_each_of_its_requests() -> None:
    async def run() -> list[object]:
        batchers = Batchers(True, 64, 50.0)
        calls = (batchers.predict_proba(FailingRuntime(), rows) for rows in _requests(4))
        return await asyncio.gather(*calls, return_exceptions=True)

    assert all(isinstance(result, ValueError) for result in asyncio.run(run()))


def test_predict_through_http_with_batching_on(iris_registry: Path) -> None:
    with make_client(iris_registry, batching=True, max_batch_size=8) as client:
        response = client.post(
            "/v1/models/iris-logistic-regression/predict", json={"instances": [IRIS_ROW] * 3}
        )
    assert response.status_code == 200
    assert [p["label"] for p in response.json()["predictions"]] == ["setosa"] * 3
