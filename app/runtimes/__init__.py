"""Runtimes by artifact format: how each kind of artifact is deserialised and scored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath

from app.runtimes.base import Runtime
from app.runtimes.onnx import OnnxRuntime
from app.runtimes.sklearn import SklearnRuntime
from app.runtimes.tflite import TFLiteRuntime

# Each loader takes the artifact's bytes, already checked against metadata.json: no runtime
# opens a file, so nothing can change between the check and the load.
LOADERS: dict[str, Callable[[bytes], Runtime]] = {
    ".onnx": OnnxRuntime.load,
    ".tflite": TFLiteRuntime.load,
    ".joblib": SklearnRuntime.load,
}
# Formats whose loading runs code from the file: only with SERVING_ALLOW_PICKLE.
PICKLE_FORMATS = frozenset({".joblib"})


def artifact_format(file_name: str) -> str:
    """The format of an artifact, from its name ('' when no runtime takes it)."""
    suffix = PurePath(file_name).suffix
    return suffix if suffix in LOADERS else ""
