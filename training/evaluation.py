"""Held-out metrics recorded in every version's metadata."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)


def evaluate(
    true_indices: npt.NDArray[np.integer[Any]],
    probabilities: npt.NDArray[np.floating[Any]],
    class_labels: list[str],
) -> dict[str, Any]:
    """Accuracy, macro F1, per-class precision/recall and the confusion matrix of a test set."""
    predicted = probabilities.argmax(axis=1)
    indices = list(range(len(class_labels)))
    precision, recall, _, support = precision_recall_fscore_support(
        true_indices, predicted, labels=indices, zero_division=0
    )
    return {
        "accuracy": round(float(accuracy_score(true_indices, predicted)), 6),
        "macro_f1": round(
            float(
                f1_score(true_indices, predicted, labels=indices, average="macro", zero_division=0)
            ),
            6,
        ),
        "test_samples": int(len(true_indices)),
        "per_class": {
            label: {
                "precision": round(float(precision[i]), 6),
                "recall": round(float(recall[i]), 6),
                "support": int(support[i]),
            }
            for i, label in enumerate(class_labels)
        },
        "confusion_matrix": confusion_matrix(true_indices, predicted, labels=indices).tolist(),
    }


def evaluate_regression(
    actual: npt.NDArray[np.floating[Any]], predicted: npt.NDArray[np.floating[Any]]
) -> dict[str, Any]:
    """MAE, RMSE and R² of a regressor on held-out rows."""
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    return {
        "mae": round(float(mean_absolute_error(actual, predicted)), 6),
        "rmse": round(float(np.sqrt(mean_squared_error(actual, predicted))), 6),
        "r2": round(float(r2_score(actual, predicted)), 6),
        "test_samples": int(len(actual)),
    }
