"""scikit-learn estimators and Pipelines (XGBoost or LightGBM wrappers included), read from a
joblib/pickle or skops file and exported with skl2onnx: ZipMap off, double precision first."""

from __future__ import annotations

import io
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training.importers import Export, ImportRefusedError, Original, Predictions, mixed_precision
from training.importers import onnx as onnx_runner
from training.importers.skl2onnx_fixes import mended

NOTES = {
    "float64": "skl2onnx, float64 inputs",
    "float32": "skl2onnx, float32 inputs",
    "mixed": "skl2onnx, float64 inputs and preprocessing, float32 trees as in scikit-learn",
}
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
SKOPS_SUFFIX = ".skops"


def read(path: Path) -> Any:
    """The estimator in a joblib/pickle file (unpickling runs the file's code) or a skops file."""
    import joblib

    try:
        if path.suffix == SKOPS_SUFFIX:
            import skops.io

            # The user's own file: every type it names is trusted, as unpickling would.
            return skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))
        return joblib.load(path)
    except Exception as exc:
        raise ImportRefusedError(f"cannot read {path}: {type(exc).__name__}: {exc}") from exc


def describe(estimator: Any) -> str:
    """The estimator's class, with a Pipeline's and a ColumnTransformer's steps."""
    if hasattr(estimator, "steps"):
        return f"Pipeline({', '.join(describe(step) for _, step in estimator.steps)})"
    if hasattr(estimator, "transformers"):
        inner = ", ".join(
            describe(t) for _, t, _ in estimator.transformers if t not in ("drop", "passthrough")
        )
        return f"ColumnTransformer({inner})"
    return type(estimator).__name__


def final_step(estimator: Any) -> Any:
    return estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator


def wrap(estimator: Any) -> Original:
    """An estimator as an Original: it predicts the signature's columns as a data frame."""
    from sklearn.base import is_classifier, is_regressor

    if not hasattr(estimator, "predict"):
        raise ImportRefusedError(f"{describe(estimator)} has no predict(): not a model")
    names = getattr(estimator, "feature_names_in_", None)
    task = "classification" if is_classifier(estimator) else None
    task = "regression" if task is None and is_regressor(estimator) else task
    classes = getattr(estimator, "classes_", None)
    final = final_step(estimator)
    framework = type(final).__module__.split(".")[0]

    def predict(frame: pd.DataFrame) -> Predictions:
        rows: Any = frame if names is not None else frame.to_numpy()
        answers: Predictions = {}
        if task == "classification" and hasattr(estimator, "predict_proba"):
            answers["probabilities"] = np.asarray(estimator.predict_proba(rows), dtype=np.float64)
            answers["label"] = np.asarray(classes)[answers["probabilities"].argmax(axis=1)]
        elif task == "classification":
            answers["label"] = np.asarray(estimator.predict(rows))
        else:
            answers["value"] = np.asarray(estimator.predict(rows), dtype=np.float64)
        return answers

    return Original(
        model=estimator,
        framework={"xgboost": "xgboost", "lightgbm": "lightgbm"}.get(framework, "sklearn"),
        algorithm=describe(estimator),
        predict=predict,
        task=task,
        feature_names=[str(n) for n in names] if names is not None else None,
        n_features=getattr(estimator, "n_features_in_", None),
        class_labels=list(classes) if classes is not None else None,
        library_versions=_versions(framework),
        pickled=_pickled(estimator),
    )


def _versions(framework: str) -> dict[str, str]:
    packages = ["scikit-learn", "skl2onnx"] + {
        "xgboost": ["xgboost-cpu"],
        "lightgbm": ["lightgbm"],
    }.get(framework, [])
    return {package: version(package) for package in packages}


def _pickled(estimator: Any) -> bytes:
    import joblib

    buffer = io.BytesIO()
    joblib.dump(estimator, buffer, compress=3)
    return buffer.getvalue()


def refuse_python_functions(estimator: Any) -> None:
    """A FunctionTransformer runs Python code no export can carry: say so, and what to do."""
    from sklearn.preprocessing import FunctionTransformer

    stack = [estimator]
    while stack:
        step = stack.pop()
        if isinstance(step, FunctionTransformer) and step.func is not None:
            name = getattr(step.func, "__name__", repr(step.func))
            raise ImportRefusedError(
                f"converting to ONNX: the FunctionTransformer wraps the Python function {name}(), "
                "which ONNX cannot carry; replace it with a scikit-learn transformer (e.g. "
                "ColumnTransformer, OneHotEncoder, SimpleImputer), or import with --keep-pickle "
                "to serve the pickle (SERVING_ALLOW_PICKLE)"
            )
        stack.extend(s for _, s in getattr(step, "steps", []))
        stack.extend(t for _, t, _ in getattr(step, "transformers", []) if not isinstance(t, str))


def tensors_for(
    columns: list[dict[str, Any]], dtype: str, per_column: bool
) -> list[dict[str, Any]]:
    """One tensor a column (text, or a ColumnTransformer choosing columns by name), else one
    tensor X with every column side by side."""
    if not per_column:
        return [
            {
                "name": "X",
                "type": dtype,
                "columns": [c["name"] for c in columns],
                "shape": [len(columns)],
            }
        ]
    return [
        {
            "name": c["name"],
            "type": "string" if c["type"] == "string" else dtype,
            "columns": [c["name"]],
            "shape": [1],
        }
        for c in columns
    ]


def _initial_types(tensors: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType, StringTensorType

    kinds = {"float64": DoubleTensorType, "float32": FloatTensorType, "string": StringTensorType}
    return [(t["name"], kinds[t["type"]]([None, t["shape"][0]])) for t in tensors]


def convert(estimator: Any, tensors: list[dict[str, Any]], task: str, mixed: bool) -> bytes:
    """skl2onnx's export; `mixed`: preprocessing in double, the trees in float."""
    from skl2onnx import to_onnx

    from training.importers import boosters

    model = boosters.prepared(estimator)
    options = {id(final_step(model)): {"zipmap": False}} if task == "classification" else None
    with boosters.registered(), mended(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # converter notes on opsets, not on the model
        if mixed:
            merged = mixed_precision.convert(model, _initial_types(tensors), options)
            return bytes(merged.SerializeToString())
        onx = to_onnx(
            model,
            initial_types=_initial_types(tensors),
            options=options,
            target_opset={"": 18, "ai.onnx.ml": 3},
        )
    return bytes(onx.SerializeToString())


def export(original: Original, columns: list[dict[str, Any]], task: str, precision: str) -> Export:
    """The skl2onnx export in `precision`: float64, float32, or "mixed" (float64 inputs and
    preprocessing, float32 trees: mixed_precision.py)."""
    estimator = original.model
    text = any(c["type"] == "string" for c in columns)
    per_column = text or _selects_by_name(estimator)
    if text and not per_column:
        raise ImportRefusedError("converting to ONNX: text columns need a ColumnTransformer")
    dtype = "float32" if precision == "float32" else "float64"
    tensors = tensors_for(columns, dtype, per_column and original.feature_names is not None)
    content = convert(estimator, tensors, task, precision == "mixed")
    runner = onnx_runner.session(content)
    names = [o.name for o in runner.get_outputs()]
    outputs: dict[str, str | None] = (
        {"label": names[0], "probabilities": names[1] if len(names) > 1 else None}
        if task == "classification"
        else {"value": names[0]}
    )
    predict = onnx_runner.predictor(content, tensors, outputs)
    return Export("model.onnx", content, tensors, outputs, predict, [NOTES[precision]])


def precisions(estimator: Any) -> list[str]:
    """The exports to try, most faithful first."""
    return (["mixed"] if mixed_precision.applies(estimator) else []) + ["float64", "float32"]


def _selects_by_name(estimator: Any) -> bool:
    first = estimator.steps[0][1] if hasattr(estimator, "steps") else estimator
    return hasattr(first, "transformers")
