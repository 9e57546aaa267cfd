"""Fit a scikit-learn estimator and save it with joblib."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from training.learning_curves import sequential, sklearn_curve
from training.onnx_export import export_onnx
from training.spec import Array, Dataset, Trained

Estimator = Any
SEED = 42


def fit_sklearn(estimator: Estimator, data: Dataset, train_rows: int | None = None) -> Trained:
    """Fit on the training split (or a seeded subset of `train_rows`); save as `model.joblib`."""
    features, targets = data.train_features, data.train_targets
    unfitted = clone(estimator)
    if train_rows is not None and len(features) > train_rows:
        chosen = np.random.default_rng(SEED).choice(len(features), train_rows, replace=False)
        features, targets = features[chosen], targets[chosen]
    with warnings.catch_warnings(record=True) as caught:
        # An iteration cap is part of a model's recipe (mnist-logistic-regression stops at
        # 100): recorded in its metrics, not printed as a warning on every training run.
        warnings.simplefilter("always", ConvergenceWarning)
        estimator.fit(features, targets)
    capped = False
    for warning in caught:
        if issubclass(warning.category, ConvergenceWarning):
            capped = True
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    params = _params(estimator)
    sequential(estimator)
    onnx_model, onnx_agreement = export_onnx(estimator, data.test_features)

    def predict_proba(batch: Array) -> Any:
        return np.asarray(estimator.predict_proba(batch), dtype=np.float64)

    def write_files(folder: Path) -> None:
        joblib.dump(estimator, folder / "model.joblib", compress=3)
        if onnx_model is not None:  # what the server loads; joblib stays the source of truth
            (folder / "model.onnx").write_bytes(onnx_model)

    params["train_rows"] = len(features)
    exported = onnx_model is not None
    return Trained(
        predict_proba,
        write_files,
        params=params,
        # Without an export the version is served only where SERVING_ALLOW_PICKLE is on.
        artifact="model.onnx" if onnx_model is not None else "model.joblib",
        extra_metrics={"onnx_export": onnx_agreement, "stopped_at_iteration_cap": capped},
        learning_curve=lambda: sklearn_curve(unfitted, data.train_features, data.train_targets),
        # skl2onnx names a NumPy input X; the pickle takes float64 rows.
        tensor={
            "name": "X",
            "type": onnx_agreement.get("input_type", "float64") if exported else "float64",
            "shape": [data.train_features.shape[1]],
        },
        # Fitted on class indices, the artifact's `label` answers an index, not one of the class
        # labels: the signature names only the probabilities (models/README.md).
        outputs={"probabilities": "probabilities"},
    )


def _params(estimator: Estimator) -> dict[str, Any]:
    """The estimator's hyper-parameters, as JSON-friendly values."""
    simple = (int, float, str, bool, type(None))
    return {k: v for k, v in estimator.get_params().items() if isinstance(v, simple)}


def builder(
    factory: Callable[[bool], Estimator], train_rows: int | None = None
) -> Callable[[Dataset, bool], Trained]:
    """Turn `factory(quick) -> estimator` into a ModelSpec.fit."""
    return lambda data, quick: fit_sklearn(factory(quick), data, train_rows)
