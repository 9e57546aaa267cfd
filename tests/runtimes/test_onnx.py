"""The ONNX exports the server uses agree with the joblib models they were exported from."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from app.runtimes import load_sklearn
from app.runtimes.onnx import OnnxRuntime
from app.runtimes.sklearn import SklearnRuntime
from tests.helpers import mnist_digits
from training import iris
from training.pipeline import SPECS

SKLEARN_MODELS = [spec.name for spec in SPECS if spec.framework == "sklearn"]


def _test_rows(name: str, mnist_dir: Path) -> np.ndarray:
    if name.startswith("iris-"):
        return np.asarray(iris.load().test_features, dtype=np.float64)
    images, _ = mnist_digits(mnist_dir, 500)
    return images.reshape(len(images), -1).astype(np.float64)


@pytest.mark.parametrize("name", SKLEARN_MODELS)
def test_onnx_export_agrees_with_joblib_model(
    quick_registry: Path, mnist_dir: Path, name: str
) -> None:
    folder = quick_registry / name / "1"
    metadata = json.loads((folder / "metadata.json").read_text())
    record = metadata["metrics"]["onnx_export"]
    if not record["exported"]:  # a disagreeing export is not written: the server uses joblib
        assert "model.onnx" not in metadata["files"] and record["reason"]
        assert isinstance(load_sklearn(folder), SklearnRuntime)
        return
    assert record["label_agreement"] >= 0.999 and record["max_abs_probability_diff"] <= 1e-4
    runtime = load_sklearn(folder)
    assert isinstance(runtime, OnnxRuntime)
    rows = _test_rows(name, mnist_dir)
    expected = SklearnRuntime.load(folder).predict_proba(rows)
    for batch in (rows, rows[:1], rows[:7]):
        got = runtime.predict_proba(batch)
        assert got.shape == expected[: len(batch)].shape
        np.testing.assert_allclose(got, expected[: len(batch)], atol=1e-4)
        agreement = (got.argmax(1) == expected[: len(batch)].argmax(1)).mean()
        assert agreement >= 0.999


def test_most_sklearn_models_have_an_onnx_export(quick_registry: Path) -> None:
    exported = [
        name for name in SKLEARN_MODELS if (quick_registry / name / "1" / "model.onnx").is_file()
    ]
    assert {"iris-logistic-regression", "iris-random-forest", "mnist-logistic-regression"} <= set(
        exported
    )


def _unlisted_onnx_copy(source: Path, folder: Path) -> Path:
    """A copy of `source` whose metadata.json no longer lists model.onnx."""
    shutil.copytree(source, folder)
    metadata = json.loads((folder / "metadata.json").read_text())
    del metadata["files"]["model.onnx"]
    (folder / "metadata.json").write_text(json.dumps(metadata))
    return folder


def test_sklearn_model_without_export_is_served_from_joblib(
    quick_registry: Path, tmp_path: Path
) -> None:
    folder = _unlisted_onnx_copy(quick_registry / "iris-logistic-regression" / "1", tmp_path / "1")
    (folder / "model.onnx").unlink()
    assert isinstance(load_sklearn(folder), SklearnRuntime)


def test_onnx_file_not_listed_in_metadata_is_ignored(quick_registry: Path, tmp_path: Path) -> None:
    # Present on disk but never checksummed by the registry: not trusted.
    folder = _unlisted_onnx_copy(quick_registry / "iris-logistic-regression" / "1", tmp_path / "1")
    assert isinstance(load_sklearn(folder), SklearnRuntime)
