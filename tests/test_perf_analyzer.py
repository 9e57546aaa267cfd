"""Triton's own tools against a real `python -m app`: tritonclient's binary tensors one per
column for imported-style models, compared with the scikit-learn originals, and perf_analyzer
(which reads GET /v2/models/{name}/config before anything else) with binary and JSON tensors.

perf_analyzer comes from scripts/install-perf-analyzer.sh (make test runs it); where it cannot
be installed the perf_analyzer tests are skipped, saying why."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tritonclient.http as triton

from tests.helpers import REPO, ServerProcess
from tests.tabular_models import (
    CLASSIFIER_COLUMNS,
    REGRESSOR_COLUMNS,
    TabularModels,
    churn_frame,
)

PERF_ANALYZER = REPO / "build" / "perf-analyzer"
TYPES = {"city": "BYTES", "plan": "BYTES", "age": "FP32", "visits": "INT64"}


@pytest.fixture(scope="module")
def server(
    quick_registry: Path, tabular_models: TabularModels, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    registry = tmp_path_factory.mktemp("triton") / "models"
    shutil.copytree(tabular_models.registry, registry)
    iris = "iris-logistic-regression"
    shutil.copytree(quick_registry / iris, registry / iris)
    process = ServerProcess(registry, reload_interval_seconds="0")
    try:
        process.wait_ready()
        yield process.base_url
    finally:
        process.stop()


def _inputs(frame: Any, names: list[str]) -> list[triton.InferInput]:
    inputs = []
    for name in names:
        values = frame[name].to_numpy()
        if TYPES[name] == "BYTES":
            array = values.astype(object).reshape(-1, 1)
        else:
            array = values.astype(np.float32 if TYPES[name] == "FP32" else np.int64)
            array = array.reshape(-1, 1)
        tensor = triton.InferInput(name, list(array.shape), TYPES[name])
        tensor.set_data_from_numpy(array, binary_data=True)
        inputs.append(tensor)
    return inputs


def test_tritonclient_binary_columns_answer_what_the_originals_predict(
    server: str, tabular_models: TabularModels
) -> None:
    frame = churn_frame(25, seed=3)
    assert frame["age"].isna().any()  # NaN in binary FP32: a gap
    client = triton.InferenceServerClient(server.removeprefix("http://"))
    try:
        result = client.infer("churn", _inputs(frame, CLASSIFIER_COLUMNS))
        expected = tabular_models.classifier.predict_proba(frame)
        np.testing.assert_allclose(result.as_numpy("probabilities"), expected, atol=1e-5)
        labels = [label.decode() for label in result.as_numpy("label")]
        assert labels == list(tabular_models.classifier.predict(frame))
        result = client.infer("spend", _inputs(frame, REGRESSOR_COLUMNS))
        expected = tabular_models.regressor.predict(frame[REGRESSOR_COLUMNS])
        np.testing.assert_allclose(result.as_numpy("value"), expected, rtol=1e-4, atol=1e-4)
        config = client.get_model_config("churn")
        assert [tensor["name"] for tensor in config["input"]] == CLASSIFIER_COLUMNS
    finally:
        client.close()


def _perf_analyzer() -> Path:
    binary = PERF_ANALYZER / "perf_analyzer"
    if not binary.exists():
        result = subprocess.run(
            [str(REPO / "scripts" / "install-perf-analyzer.sh"), str(PERF_ANALYZER)],
            capture_output=True,
            text=True,
            check=False,
        )
        if not binary.exists():
            pytest.skip(f"perf_analyzer is not installed: {result.stdout}{result.stderr}".strip())
    return binary


def _input_data(tmp_path: Path, model: str) -> str:
    """perf_analyzer's --input-data: rows of real values, one tensor per column; zeros for
    Iris (perf_analyzer's random bytes as FP64 are NaN now and then: a 400)."""
    names = {"churn": CLASSIFIER_COLUMNS, "spend": REGRESSOR_COLUMNS}.get(model)
    if names is None:
        return "zero"
    frame = churn_frame(20, seed=5).dropna()
    rows = [{name: [record[name]] for name in names} for record in frame.to_dict("records")]
    path = tmp_path / f"{model}.json"
    path.write_text(json.dumps({"data": rows}, default=int))
    return str(path)


@pytest.mark.parametrize("tensor_format", ["binary", "json"])
@pytest.mark.parametrize("model", ["churn", "spend", "iris-logistic-regression"])
def test_perf_analyzer_runs_against_the_server(
    server: str, tmp_path: Path, model: str, tensor_format: str
) -> None:
    binary = _perf_analyzer()
    data = _input_data(tmp_path, model)
    command = [
        str(binary),
        *("-m", model, "-u", server.removeprefix("http://"), "-i", "http"),
        *("--input-data", data, "--concurrency-range", "2", "-b", "2"),
        # Not a measurement (python -m bench is): three windows of 100 requests, "stable"
        # within a factor of ten, so a busy machine never aborts the run.
        *("--measurement-mode", "count_windows", "--measurement-request-count", "100"),
        *("--stability-percentage", "1000", "--max-trials", "3"),
        *("--input-tensor-format", tensor_format, "--output-tensor-format", tensor_format),
    ]
    environment = {**os.environ, "LD_LIBRARY_PATH": str(PERF_ANALYZER / "lib")}
    result = subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=120, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "error" not in output.lower(), output
    throughput = re.search(r"Throughput: ([\d.]+) infer/sec", output)
    assert throughput is not None and float(throughput.group(1)) > 0, output
