"""Micro-batching: concurrent requests share runtime calls, and each gets its own rows back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from app.core.batching import Batchers
from app.runtimes.base import Outputs, Runtime, Tensors
from app.runtimes.onnx import OnnxRuntime
from tests.helpers import IRIS_ROW, make_client


class CountingRuntime:
    """A real runtime that records the size of every batch it scores."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.input_names = runtime.input_names
        self.output_names = runtime.output_names
        self.calls: list[int] = []

    def run(self, inputs: Tensors) -> Outputs:
        self.calls.append(len(next(iter(inputs.values()))))
        return self.runtime.run(inputs)


class FailingRuntime:
    input_names = ["input"]
    output_names = ["probabilities"]

    def run(self, inputs: Tensors) -> Outputs:
        raise ValueError("model failed")


@pytest.fixture
def runtime(quick_registry: Path) -> CountingRuntime:
    artifact = quick_registry / "iris-logistic-regression" / "1" / "model.onnx"
    return CountingRuntime(OnnxRuntime.load(artifact.read_bytes()))


def _requests(count: int) -> list[np.ndarray]:
    """Distinct requests of 1 to 3 rows, so a mix-up would show."""
    rng = np.random.default_rng(0)
    return [rng.uniform(0.1, 7.0, size=(1 + i % 3, 4)) for i in range(count)]


def _inputs(runtime: Runtime, rows: np.ndarray) -> dict[str, np.ndarray]:
    return {runtime.input_names[0]: rows.astype(np.float32)}


def _probabilities(runtime: Runtime, rows: np.ndarray) -> np.ndarray:
    return runtime.run(_inputs(runtime, rows))["probabilities"]


async def _concurrently(
    batchers: Batchers, runtime: Runtime, requests: list[np.ndarray]
) -> list[np.ndarray]:
    calls = (batchers.run(runtime, _inputs(runtime, rows)) for rows in requests)
    return [outputs["probabilities"] for outputs in await asyncio.gather(*calls)]


def test_concurrent_requests_share_calls_and_get_their_own_rows(runtime: CountingRuntime) -> None:
    requests = _requests(20)
    results = asyncio.run(_concurrently(Batchers(True, 64, 50.0), runtime, requests))
    assert len(runtime.calls) < len(requests)  # coalesced
    assert sum(runtime.calls) == sum(len(rows) for rows in requests)
    for rows, got in zip(requests, results, strict=True):
        np.testing.assert_allclose(got, _probabilities(runtime.runtime, rows), atol=1e-12)


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
        calls = (batchers.run(FailingRuntime(), {"input": rows}) for rows in _requests(4))
        return await asyncio.gather(*calls, return_exceptions=True)

    assert all(isinstance(result, ValueError) for result in asyncio.run(run()))


def test_predict_through_http_with_batching_on(iris_registry: Path) -> None:
    with make_client(iris_registry, batching=True, max_batch_size=8) as client:
        response = client.post(
            "/v1/models/iris-logistic-regression/predict", json={"instances": [IRIS_ROW] * 3}
        )
    assert response.status_code == 200
    assert [p["label"] for p in response.json()["predictions"]] == ["setosa"] * 3
