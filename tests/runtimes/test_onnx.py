"""The ONNX exports the server uses agree with the joblib models they were exported from."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from app.registry.registry import ModelRegistry
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
    # Every shipped scikit-learn model is served from its export, never from its pickle.
    assert record["exported"] and metadata["artifact"] == "model.onnx"
    assert record["label_agreement"] >= 0.999 and record["max_abs_probability_diff"] <= 1e-4
    runtime = OnnxRuntime.load((folder / "model.onnx").read_bytes())
    rows = _test_rows(name, mnist_dir)
    pickled = SklearnRuntime.load((folder / "model.joblib").read_bytes())
    expected = pickled.run({"input": rows})["probabilities"]
    for batch in (rows, rows[:1], rows[:7]):
        got = runtime.run({runtime.input_names[0]: batch})["probabilities"]
        assert got.shape == expected[: len(batch)].shape
        np.testing.assert_allclose(got, expected[: len(batch)], atol=1e-4)
        agreement = (got.argmax(1) == expected[: len(batch)].argmax(1)).mean()
        assert agreement >= 0.999


def _legacy_copy(source: Path, registry: Path, drop_onnx: bool) -> Path:
    """A copy of `source` as written before metadata.json named its artifact, and (with
    `drop_onnx`) without its export listed: only the pickle is listed."""
    folder = registry / source.parent.name / "1"
    shutil.copytree(source, folder)
    metadata = json.loads((folder / "metadata.json").read_text())
    del metadata["artifact"]
    if drop_onnx:
        del metadata["files"]["model.onnx"]
    (folder / "metadata.json").write_text(json.dumps(metadata))
    return folder


def test_legacy_metadata_is_served_from_its_listed_export(
    quick_registry: Path, tmp_path: Path
) -> None:
    _legacy_copy(quick_registry / "iris-logistic-regression" / "1", tmp_path, drop_onnx=False)
    model = ModelRegistry.load(tmp_path).get("iris-logistic-regression")
    assert isinstance(model.runtime, OnnxRuntime)


def test_a_pickle_only_version_is_refused_unless_pickles_are_allowed(
    quick_registry: Path, tmp_path: Path
) -> None:
    # model.onnx is still on disk but not listed: never trusted, never loaded.
    _legacy_copy(quick_registry / "iris-logistic-regression" / "1", tmp_path, drop_onnx=True)
    [broken] = ModelRegistry.load(tmp_path).broken()
    assert broken.reason == (
        "model.joblib is a pickle, which runs code when loaded: it is loaded only with "
        "SERVING_ALLOW_PICKLE=true"
    )
    model = ModelRegistry.load(tmp_path, allow_pickle=True).get("iris-logistic-regression")
    assert isinstance(model.runtime, SklearnRuntime)
