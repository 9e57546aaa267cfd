"""XGBoost booster files: read, with their feature names and objective."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from training.importers import Original, Predictions
from training.importers.boosters import binary_or_multi


def read_booster(path: Path) -> Original:
    """A native XGBoost booster file (.json or .ubj); its objective says the task."""
    import xgboost

    booster = xgboost.Booster(model_file=str(path))
    objective = json.loads(booster.save_config())["learner"]["objective"]["name"]
    names = booster.feature_names
    task = "classification" if objective.startswith(("binary:", "multi:")) else "regression"

    def predict(frame: pd.DataFrame) -> Predictions:
        matrix = xgboost.DMatrix(frame if names else frame.to_numpy(), missing=np.nan)
        raw = booster.predict(matrix)
        return (
            binary_or_multi(raw)
            if task == "classification"
            else {"value": np.asarray(raw, dtype=np.float64)}
        )

    classes = None
    if task == "classification":
        classes = list(
            range(
                max(
                    2,
                    int(
                        json.loads(booster.save_config())["learner"]["learner_model_param"][
                            "num_class"
                        ]
                    ),
                )
            )
        )
    return Original(
        booster,
        "xgboost",
        f"XGBoost Booster ({objective})",
        predict,
        task,
        feature_names=list(names) if names else None,
        n_features=booster.num_features(),
        class_labels=classes,
        library_versions={"xgboost-cpu": version("xgboost-cpu")},
    )
