"""Runtimes by framework: how each kind of artifact is loaded and scored."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from app.runtimes.base import Runtime
from app.runtimes.onnx import OnnxRuntime
from app.runtimes.sklearn import SklearnRuntime
from app.runtimes.tflite import TFLiteRuntime


def load_sklearn(model_dir: Path) -> Runtime:
    """The ONNX export when training wrote one (it passed the agreement check), else joblib.

    Only an export listed in metadata.json, whose checksum the registry has verified, is used.
    """
    files = json.loads((model_dir / "metadata.json").read_bytes()).get("files", {})
    if "model.onnx" in files:
        return OnnxRuntime.load(model_dir)
    return SklearnRuntime.load(model_dir)


LOADERS: dict[str, Callable[[Path], Runtime]] = {
    "sklearn": load_sklearn,
    "keras": TFLiteRuntime.load,
}
