"""A small registry for the payload tests: the tabular churn classifier and spend regressor,
two versions of a quick Iris model, and a quick MNIST model for images."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.api.test_labels import copy_version

if TYPE_CHECKING:
    from tests.tabular_models import TabularModels

IRIS = "iris-logistic-regression"
DIGITS = "mnist-naive-bayes"


@pytest.fixture(scope="session")
def payload_models(
    tabular_models: TabularModels, mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Read only; copy it (payload_registry) to change labels."""
    from training.__main__ import NOT_PROMOTED, main

    registry = tmp_path_factory.mktemp("payloads") / "models"
    shutil.copytree(tabular_models.registry, registry)
    arguments = ["--quick", "--model", IRIS, "--model", DIGITS, "--mnist-dir", str(mnist_dir)]
    assert main([*arguments, "--registry-dir", str(registry)]) == NOT_PROMOTED
    copy_version(registry, IRIS, 1, 2)
    return registry


@pytest.fixture
def payload_registry(payload_models: Path, tmp_path: Path) -> Path:
    """A private copy of the payload models, free to change in one test."""
    registry = tmp_path / "models"
    shutil.copytree(payload_models, registry)
    return registry


def records(folder: Path) -> list[dict[str, Any]]:
    """Every captured record in the folder, oldest segment first (open segments last)."""
    paths = sorted(folder.glob("*.jsonl")) + sorted(folder.glob("*.jsonl.partial"))
    return [json.loads(line) for path in paths for line in path.read_bytes().splitlines()]


def until(check: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.02)
