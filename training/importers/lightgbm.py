"""LightGBM booster files: read, with their feature names and objective."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from training.importers import Original, Predictions
from training.importers.boosters import binary_or_multi


def read_booster(path: Path) -> Original:
    """A LightGBM booster file (.txt); its objective says the task."""
    import lightgbm

    booster = lightgbm.Booster(model_file=str(path))
    objective = str(booster.dump_model()["objective"]).split()[0]
    task = (
        "classification" if objective in ("binary", "multiclass", "multiclassova") else "regression"
    )
    names = booster.feature_name()

    def predict(frame: pd.DataFrame) -> Predictions:
        raw = booster.predict(frame.to_numpy(dtype=np.float64))
        return (
            binary_or_multi(raw)
            if task == "classification"
            else {"value": np.asarray(raw, dtype=np.float64)}
        )

    classes = None
    if task == "classification":
        classes = list(range(max(2, int(booster.dump_model()["num_class"]))))
    generic = all(n.startswith("Column_") for n in names)
    return Original(
        booster,
        "lightgbm",
        f"LightGBM Booster ({objective})",
        predict,
        task,
        feature_names=None if generic else list(names),
        n_features=booster.num_feature(),
        class_labels=classes,
        library_versions={"lightgbm": version("lightgbm")},
    )
