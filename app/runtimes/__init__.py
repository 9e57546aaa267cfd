"""Runtimes by framework: how each kind of artifact is loaded and scored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.runtimes.base import Runtime
from app.runtimes.sklearn import SklearnRuntime
from app.runtimes.tflite import TFLiteRuntime

LOADERS: dict[str, Callable[[Path], Runtime]] = {
    "sklearn": SklearnRuntime.load,
    "keras": TFLiteRuntime.load,
}
