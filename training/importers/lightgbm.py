"""LightGBM booster files: read, with their feature names and objective."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training.importers import Original
from training.importers.boosters import booster_original

CLASSIFICATION = ("binary", "multiclass", "multiclassova")


def read_booster(path: Path) -> Original:
    """A LightGBM booster file (.txt); its objective says the task."""
    import lightgbm

    booster = lightgbm.Booster(model_file=str(path))
    dump = booster.dump_model()
    objective = str(dump["objective"]).split()[0]
    classes = int(dump["num_class"]) if objective in CLASSIFICATION else None
    names = booster.feature_name()
    generic = all(n.startswith("Column_") for n in names)  # fitted without names

    def raw(frame: pd.DataFrame) -> Any:
        return booster.predict(frame.to_numpy(dtype=np.float64))

    return booster_original(
        booster,
        "LightGBM",
        objective,
        classes,
        raw,
        None if generic else list(names),
        booster.num_feature(),
    )
