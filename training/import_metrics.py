"""Evaluation of an imported model on its --eval file, through the export that will be served."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training.evaluation import evaluate as evaluate_classifier
from training.evaluation import evaluate_regression
from training.importers import Export, ImportRefusedError
from training.plots import confusion_matrix_plot, predicted_actual_plot

Plot = Callable[[Path], None]


def evaluate(
    task: str, exported: Export, data: Any, names: Any, class_labels: list[Any]
) -> tuple[dict[str, Any], Plot | None]:
    """The metrics (empty without --eval) and the plot that goes with them."""
    if data.eval_features is None or data.eval_target is None:
        return {}, None
    answers = exported.predict(data.eval_features[list(names)])
    target = data.eval_target
    if task == "regression":
        predicted = np.asarray(answers["value"], dtype=np.float64).reshape(len(target), -1)[:, 0]
        actual = target.to_numpy(dtype=np.float64)
        metrics = evaluate_regression(actual, predicted)
        title = f"R² {metrics['r2']:.4f} on {len(actual)} rows"
        return metrics, lambda folder: predicted_actual_plot(
            folder / "predicted_actual.png", actual, predicted, title
        )
    labels = [str(label) for label in class_labels]
    unknown = sorted({str(v) for v in target} - set(labels))
    if unknown:
        raise ImportRefusedError(
            f"the eval target has labels the model does not know: {', '.join(unknown[:5])}"
        )
    true_indices = np.asarray([labels.index(str(v)) for v in target])
    probabilities = _probabilities(answers, labels, len(target))
    metrics = evaluate_classifier(true_indices, probabilities, labels)
    title = f"accuracy {metrics['accuracy']:.4f}"
    matrix = metrics["confusion_matrix"]
    return metrics, lambda folder: confusion_matrix_plot(
        folder / "confusion_matrix.png", matrix, labels, title
    )


def _probabilities(answers: dict[str, Any], labels: list[str], rows: int) -> Any:
    if "probabilities" in answers:
        return np.asarray(answers["probabilities"], dtype=np.float64).reshape(rows, -1)
    predicted = pd.Series([str(v) for v in np.asarray(answers["label"]).reshape(-1)])
    return np.eye(len(labels))[[labels.index(v) for v in predicted]]
