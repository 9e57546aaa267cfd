"""Serve a scikit-learn classifier saved with joblib."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

import joblib
import numpy as np

from app.runtimes.base import Array, Batch


class SklearnRuntime:
    """A fitted estimator or pipeline with `predict_proba`."""

    def __init__(self, estimator: Any) -> None:
        self._estimator = estimator
        # A forest's default n_jobs=-1 would start a thread pool for every single-row request.
        for name, value in estimator.get_params().items():
            if name.endswith("n_jobs") and value not in (None, 1):
                estimator.set_params(**{name: 1})

    @classmethod
    def load(cls, model_dir: Path) -> Self:
        return cls(joblib.load(model_dir / "model.joblib"))

    def predict_proba(self, batch: Batch) -> Array:
        return np.asarray(self._estimator.predict_proba(batch), dtype=np.float64)
