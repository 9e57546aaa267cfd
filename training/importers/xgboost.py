"""XGBoost booster files: read, with their feature names and objective."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training.importers import Original
from training.importers.boosters import booster_original


def read_booster(path: Path) -> Original:
    """A native XGBoost booster file (.json or .ubj); its objective says the task."""
    import xgboost

    booster = xgboost.Booster(model_file=str(path))
    learner = json.loads(booster.save_config())["learner"]
    objective = learner["objective"]["name"]
    names = booster.feature_names
    classes = None
    if objective.startswith(("binary:", "multi:")):
        classes = int(learner["learner_model_param"]["num_class"])

    def raw(frame: pd.DataFrame) -> Any:
        return booster.predict(
            xgboost.DMatrix(frame if names else frame.to_numpy(), missing=np.nan)
        )

    return booster_original(
        booster,
        "XGBoost",
        objective,
        classes,
        raw,
        list(names) if names else None,
        booster.num_features(),
    )
