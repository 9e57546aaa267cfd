from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.runtimes.tflite import TFLiteRuntime
from tests.helpers import mnist_digits


@pytest.mark.keras
@pytest.mark.parametrize("name", ["mnist-mlp", "mnist-cnn"])
def test_tflite_runtime_matches_keras_model(
    quick_registry: Path, mnist_dir: Path, name: str
) -> None:
    import keras

    folder = quick_registry / name / "1"
    assert json.loads((folder / "metadata.json").read_text())["framework"] == "keras"
    images, _ = mnist_digits(mnist_dir, 200)
    batch = images.reshape(200, -1).astype(np.float64)
    runtime = TFLiteRuntime.load((folder / "model.tflite").read_bytes())
    keras_model = keras.saving.load_model(folder / "model.keras")
    expected = np.asarray(keras_model(images.astype(np.float32), training=False))
    for rows in (batch, batch[:1], batch[:7]):  # batch sizes change: the interpreter resizes
        (got,) = runtime.run({runtime.input_names[0]: rows}).values()
        np.testing.assert_allclose(got, expected[: len(rows)], atol=1e-4)
        assert (got.argmax(1) == expected[: len(rows)].argmax(1)).all()


def test_threads_run_their_own_interpreters_with_their_own_batch_sizes(
    quick_registry: Path, mnist_dir: Path
) -> None:
    """Calls from several threads at once, each with its batch size, answer what one thread
    does (an interpreter a thread: no lock for the event loop to wait on)."""
    from concurrent.futures import ThreadPoolExecutor

    runtime = TFLiteRuntime.load((quick_registry / "mnist-cnn" / "1" / "model.tflite").read_bytes())
    images, _ = mnist_digits(mnist_dir, 64)
    batch = images.reshape(64, -1).astype(np.float64)
    name = runtime.input_names[0]
    (expected,) = runtime.run({name: batch}).values()
    sizes = [64, 1, 7, 33, 2, 64, 5, 17] * 4

    def call(rows: int) -> np.ndarray:
        (got,) = runtime.run({name: batch[:rows]}).values()
        return np.asarray(got)

    with ThreadPoolExecutor(4) as pool:
        for rows, got in zip(sizes, pool.map(call, sizes), strict=True):
            np.testing.assert_allclose(got, expected[:rows], atol=1e-5)
