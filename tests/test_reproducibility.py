"""The same training command on the same data gives the same metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from training.__main__ import NOT_PROMOTED, main

MODELS = ["iris-svm", "mnist-random-forest", "mnist-svm", "mnist-mlp", "mnist-cnn"]
TIMINGS = {"training_seconds", "seconds"}  # wall-clock: the only figures allowed to differ


def _without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k not in TIMINGS}
    return value


def _train(registry: Path, mnist_dir: Path) -> dict[str, Any]:
    selection = [argument for name in MODELS for argument in ("--model", name)]
    arguments = ["--quick", *selection, "--registry-dir", str(registry), "--mnist-dir"]
    assert main([*arguments, str(mnist_dir)]) == NOT_PROMOTED
    return {
        name: json.loads((registry / name / "1" / "metadata.json").read_text()) for name in MODELS
    }


@pytest.mark.keras
def test_two_runs_of_the_same_command_give_the_same_metrics(
    tmp_path: Path, mnist_dir: Path
) -> None:
    first = _train(tmp_path / "first", mnist_dir)
    second = _train(tmp_path / "second", mnist_dir)
    for name in MODELS:
        assert _without_timings(first[name]["metrics"]) == _without_timings(
            second[name]["metrics"]
        ), name
        assert (
            first[name]["provenance"]["dataset_files"]
            == second[name]["provenance"]["dataset_files"]
        )
