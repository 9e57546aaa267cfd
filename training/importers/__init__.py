"""Reading a user's model (scikit-learn, XGBoost, LightGBM, Keras, ONNX, MLflow) and exporting
it to what the server loads: one module a framework, each turning a source into an `Export`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy.typing as npt
import pandas as pd

Array = npt.NDArray[Any]
# The original's answers for some rows: "label", "probabilities" or "value".
Predictions = dict[str, Array]


class ImportRefusedError(Exception):
    """A model that cannot be imported; the message is one sentence naming the step and why."""


@dataclass
class Original:
    """The user's model, loaded: how it predicts a data frame of the signature's columns."""

    model: Any
    framework: str  # sklearn | xgboost | lightgbm | keras | onnx
    algorithm: str  # the estimator's class, e.g. "Pipeline(ColumnTransformer, LogisticRegression)"
    predict: Callable[[pd.DataFrame], Predictions]
    task: str | None = None  # classification | regression, when the model says
    feature_names: list[str] | None = None  # what the model was fitted with, when it knows
    n_features: int | None = None
    class_labels: list[Any] | None = None
    library_versions: dict[str, str] = field(default_factory=dict)
    # From an MLflow folder: its signature's columns and its input example.
    declared_inputs: list[dict[str, Any]] | None = None
    example: pd.DataFrame | None = None
    pickled: bytes | None = None  # the original as a joblib pickle, for --keep-pickle


@dataclass
class Export:
    """What the server will load, and how to run it here to check it against the original."""

    artifact: str  # file name: model.onnx | model.tflite | model.joblib
    content: bytes
    tensors: list[dict[str, Any]]
    outputs: dict[str, str | None]
    predict: Callable[[pd.DataFrame], Predictions]
    notes: list[str] = field(default_factory=list)  # how it was converted, when not plainly


def first_line(exc: BaseException) -> str:
    """An exception's message, its first line only: no traceback reaches the user."""
    return (str(exc).strip().splitlines() or [""])[0][:200]
