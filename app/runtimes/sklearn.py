"""Serve a scikit-learn classifier saved with joblib: only with SERVING_ALLOW_PICKLE."""

from __future__ import annotations

import io
from typing import Any, Self

import numpy as np

from app.runtimes.base import Array, Batch


class SklearnRuntime:
    """A fitted estimator or pipeline with `predict_proba`, unpickled by joblib.

    Unpickling runs code named in the file: the registry loads a pickle only when
    SERVING_ALLOW_PICKLE is on. joblib and scikit-learn are imported then, never otherwise
    (they are the `pickle` extra, not in the serving image)."""

    def __init__(self, estimator: Any) -> None:
        self._estimator = estimator
        # A forest's default n_jobs=-1 would start a thread pool for every single-row request.
        for name, value in estimator.get_params().items():
            if name.endswith("n_jobs") and value not in (None, 1):
                estimator.set_params(**{name: 1})

    @classmethod
    def load(cls, content: bytes) -> Self:
        import joblib

        return cls(joblib.load(io.BytesIO(content)))

    def predict_proba(self, batch: Batch) -> Array:
        return np.asarray(self._estimator.predict_proba(batch), dtype=np.float64)
