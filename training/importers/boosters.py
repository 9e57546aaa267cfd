"""XGBoost and LightGBM: native booster files (.json/.ubj, .txt) converted with onnxmltools, and
their scikit-learn wrappers (alone or last in a Pipeline) converted through skl2onnx with
onnxmltools' converters registered. onnxmltools takes float32 inputs only."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training.importers import Export, ImportRefusedError, Original, Predictions
from training.importers import onnx as onnx_runner

XGBOOST_SUFFIXES = (".json", ".ubj")
LIGHTGBM_SUFFIXES = (".txt",)


@contextmanager
def registered() -> Iterator[None]:
    """skl2onnx knowing the XGBoost and LightGBM wrappers (registering twice is harmless)."""
    import lightgbm
    import xgboost
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    classifier_options = {"nocl": [True, False], "zipmap": [True, False, "columns"]}
    for wrapper, alias, converter in (
        (xgboost.XGBClassifier, "XGBoostXGBClassifier", convert_xgboost),
        (lightgbm.LGBMClassifier, "LightGbmLGBMClassifier", convert_lightgbm),
    ):
        update_registered_converter(
            wrapper,
            alias,
            calculate_linear_classifier_output_shapes,
            converter,
            options=classifier_options,
        )
    for wrapper, alias, converter in (
        (xgboost.XGBRegressor, "XGBoostXGBRegressor", convert_xgboost),
        (lightgbm.LGBMRegressor, "LightGbmLGBMRegressor", convert_lightgbm),
    ):
        update_registered_converter(
            wrapper,
            alias,
            calculate_linear_regressor_output_shapes,
            converter,
            options={"split": None},
        )
    yield


def prepared(estimator: Any) -> Any:
    """A copy whose XGBoost booster has no feature names: onnxmltools wants f0, f1, ... (the
    signature keeps the names)."""
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    if type(final).__module__.split(".")[0] != "xgboost":
        return estimator
    model = copy.deepcopy(estimator)
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    final.get_booster().feature_names = None
    return model


def is_booster(model: Any) -> bool:
    """A bare XGBoost or LightGBM Booster (not a scikit-learn wrapper)."""
    package = type(model).__module__.split(".")[0]
    return type(model).__name__ == "Booster" and package in ("xgboost", "lightgbm")


def read(path: Path) -> Original:
    """A native booster file, by its suffix."""
    return read_as(path, "xgboost" if path.suffix in XGBOOST_SUFFIXES else "lightgbm")


def read_as(path: Path, framework: str) -> Original:
    """A native XGBoost or LightGBM booster file."""
    try:
        if framework == "xgboost":
            from training.importers.xgboost import read_booster

            return read_booster(path)
        from training.importers.lightgbm import read_booster as read_lightgbm

        return read_lightgbm(path)
    except ImportRefusedError:
        raise
    except Exception as exc:
        raise ImportRefusedError(
            f"cannot read {path} as a booster: {type(exc).__name__}: {exc}"
        ) from exc


def binary_or_multi(raw: Any) -> Predictions:
    raw = np.asarray(raw, dtype=np.float64)
    probabilities = np.column_stack([1 - raw, raw]) if raw.ndim == 1 else raw
    return {"probabilities": probabilities, "label": probabilities.argmax(axis=1)}


PACKAGES = {"XGBoost": ("xgboost", "xgboost-cpu"), "LightGBM": ("lightgbm", "lightgbm")}


def booster_original(
    booster: Any,
    library: str,
    objective: str,
    n_classes: int | None,
    raw: Callable[[pd.DataFrame], Any],
    feature_names: list[str] | None,
    n_features: int,
) -> Original:
    """A native booster as an Original; `n_classes` None for a regressor, `raw` its predict."""
    framework, package = PACKAGES[library]

    def predict(frame: pd.DataFrame) -> Predictions:
        answers = raw(frame)
        if n_classes is None:
            return {"value": np.asarray(answers, dtype=np.float64)}
        return binary_or_multi(answers)

    return Original(
        booster,
        framework,
        f"{library} Booster ({objective})",
        predict,
        "regression" if n_classes is None else "classification",
        feature_names=feature_names,
        n_features=n_features,
        class_labels=None if n_classes is None else list(range(max(2, n_classes))),
        library_versions={package: version(package)},
    )


def export(original: Original, columns: list[dict[str, Any]], task: str) -> Export:
    """A native booster converted by onnxmltools, float32 inputs, ZipMap off."""
    import onnxmltools
    from onnxmltools.convert.common.data_types import FloatTensorType

    tensor = {
        "name": "X",
        "type": "float32",
        "columns": [c["name"] for c in columns],
        "shape": [len(columns)],
    }
    initial = [("X", FloatTensorType([None, len(columns)]))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # converter notes on opsets, not on the model
        if original.framework == "xgboost":
            booster = copy.copy(original.model)
            booster.feature_names = None
            onx = onnxmltools.convert_xgboost(booster, initial_types=initial)
        else:
            onx = onnxmltools.convert_lightgbm(original.model, initial_types=initial, zipmap=False)
    for output in onx.graph.output:  # onnxmltools declares LightGBM's label as [1]: any rows
        output.type.tensor_type.shape.dim[0].dim_param = "N"
    content = bytes(onx.SerializeToString())
    runner = onnx_runner.session(content)
    names = [o.name for o in runner.get_outputs()]
    if any(o.type.startswith("seq") for o in runner.get_outputs()):
        raise ImportRefusedError("converting to ONNX: the export's probabilities are a ZipMap")
    outputs: dict[str, str | None] = (
        {"label": names[0], "probabilities": names[1]}
        if task == "classification"
        else {"value": names[0]}
    )
    predict = onnx_runner.predictor(content, [tensor], outputs)
    return Export(
        "model.onnx", content, [tensor], outputs, predict, ["onnxmltools, float32 inputs"]
    )
