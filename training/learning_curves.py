"""Training and testing error for every model: scikit-learn learning curves, Keras epochs."""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, learning_curve

from training.spec import Array


def sequential(estimator: Any) -> Any:
    """Predict on one thread: a forest's threads add their trees' probabilities in the order
    they finish, so a tie between two classes could go either way from one run to the next.
    (A fit on several threads is reproducible: each tree's seed is drawn before they start.)"""
    if "n_jobs" in estimator.get_params():
        estimator.set_params(n_jobs=1)
    return estimator


SEED = 7
# Refitting the models on 60,000 digits at several sizes would double the training time: the
# curves of the larger datasets are drawn on a seeded, stratified-by-chance subsample.
SUBSAMPLE_ROWS = 4000
FOLDS = 3
POINTS = 4
# The smallest fit still needs rows of every class: the SVMs calibrate with 5-fold CV inside.
ROWS_PER_CLASS = 12


def _rounded(values: Array) -> list[float]:
    return [round(float(v), 6) for v in values]


def sklearn_curve(estimator: Any, features: Array, targets: Array) -> dict[str, Any]:
    """Error (1 - accuracy) on the rows fitted and on held-out folds, against training rows,
    with the spread across folds; on a subsample of SUBSAMPLE_ROWS where there are more."""
    started = time.perf_counter()
    total = len(features)
    if total > SUBSAMPLE_ROWS:
        chosen = np.sort(np.random.default_rng(SEED).choice(total, SUBSAMPLE_ROWS, replace=False))
        features, targets = features[chosen], targets[chosen]
    fold_rows = len(features) * (FOLDS - 1) // FOLDS
    smallest = max(0.1, ROWS_PER_CLASS * len(np.unique(targets)) / fold_rows)
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    with warnings.catch_warnings():
        # The curve refits the model's own recipe, iteration cap included (training/sklearn_fit.py
        # records whether the fit itself stopped at it).
        warnings.simplefilter("ignore", ConvergenceWarning)
        sizes, train_scores, test_scores = learning_curve(
            sequential(clone(estimator)),  # fits and scores inside: one thread, reproducible
            features,
            targets,
            train_sizes=np.linspace(min(smallest, 1.0), 1.0, POINTS),
            cv=folds,
            scoring="accuracy",
            shuffle=True,
            random_state=SEED,
            error_score="raise",
        )
    train_error, test_error = 1 - np.asarray(train_scores), 1 - np.asarray(test_scores)
    return {
        "method": "learning_curve",
        "x": "training rows",
        "train_sizes": [int(s) for s in sizes],
        "train_error_mean": _rounded(train_error.mean(axis=1)),
        "train_error_std": _rounded(train_error.std(axis=1)),
        "test_error_mean": _rounded(test_error.mean(axis=1)),
        "test_error_std": _rounded(test_error.std(axis=1)),
        "folds": FOLDS,
        "rows": len(features),
        "subsample": (
            f"{len(features)} of the {total} training rows (seed {SEED})"
            if len(features) < total
            else None
        ),
        "seed": SEED,
        "seconds": round(time.perf_counter() - started, 2),
    }


def epoch_curve(history: dict[str, list[float]]) -> dict[str, Any]:
    """A Keras model's error per epoch on the rows it fits and on its validation split."""
    return {
        "method": "epochs",
        "x": "epoch",
        "epochs": list(range(1, len(history["accuracy"]) + 1)),
        "train_error": [round(1 - v, 6) for v in history["accuracy"]],
        "test_error": [round(1 - v, 6) for v in history["val_accuracy"]],
        "seconds": 0.0,
    }


def final_gap(curve: dict[str, Any]) -> tuple[float, float]:
    """Training and testing error at the largest size (or the last epoch)."""
    if curve["method"] == "epochs":
        return curve["train_error"][-1], curve["test_error"][-1]
    return curve["train_error_mean"][-1], curve["test_error_mean"][-1]
