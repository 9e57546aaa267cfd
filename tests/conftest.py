"""Shared fixtures: the local MNIST copy and one quick-trained registry for the whole session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

if TYPE_CHECKING:
    from tests.tabular_models import TabularModels

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The local MNIST files: $MNIST_DIR, else the shared copy beside the repository."""
    folder = Path(os.environ.get("MNIST_DIR") or REPO.parent / "shared" / "datasets" / "mnist")
    if not (folder / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.fail(f"MNIST not found at {folder}: set MNIST_DIR to the folder of the IDX files")
    return folder


@pytest.fixture(scope="session")
def quick_registry(tmp_path_factory: pytest.TempPathFactory, mnist_dir: Path) -> Path:
    """All fourteen models trained once in quick mode (small data, one epoch)."""
    from training.__main__ import NOT_PROMOTED, main

    registry = tmp_path_factory.mktemp("registry")
    assert (
        main(["--quick", "--registry-dir", str(registry), "--mnist-dir", str(mnist_dir)])
        == NOT_PROMOTED
    )
    return registry


@pytest.fixture(scope="session")
def compared_registry(
    quick_registry: Path, mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A copy of the quick registry with both comparisons written into it, as `make serve`
    leaves a registry; read only."""
    from training.__main__ import main

    registry = tmp_path_factory.mktemp("compared") / "models"
    shutil.copytree(quick_registry, registry)
    arguments = ["compare", "--dataset", "iris", "--dataset", "mnist", "--seconds", "0.3"]
    assert main([*arguments, "--registry-dir", str(registry), "--mnist-dir", str(mnist_dir)]) == 0
    return registry


@pytest.fixture
def iris_registry(quick_registry: Path, tmp_path: Path) -> Path:
    """A private copy of the quick Iris models, free to change in one test."""
    registry = tmp_path / "models"
    for model_dir in quick_registry.glob("iris-*"):
        shutil.copytree(model_dir, registry / model_dir.name)
    return registry


@pytest.fixture(scope="session")
def client(quick_registry: Path) -> Iterator[TestClient]:
    """The app over the quick registry, shared by tests that only read."""
    settings = Settings(models_dir=quick_registry, reload_interval_seconds=0)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="session")
def tabular_models(tmp_path_factory: pytest.TempPathFactory) -> TabularModels:
    """A registry of imported-style models: churn (text, integer and float columns with gaps,
    a classifier) and spend (a regressor), with their scikit-learn originals."""
    from tests.tabular_models import build  # scikit-learn and skl2onnx: only when used

    return build(tmp_path_factory.mktemp("tabular") / "models")
