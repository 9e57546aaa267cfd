"""Serve a scikit-learn model saved with joblib: only with SERVING_ALLOW_PICKLE."""

from __future__ import annotations

import io
from typing import Any, Self

import numpy as np

from app.runtimes.base import Outputs, Tensors


class SklearnRuntime:
    """A fitted estimator or pipeline, unpickled by joblib: a classifier answers `label` and
    `probabilities`, a regressor `value`.

    Unpickling runs code named in the file: the registry loads a pickle only when
    SERVING_ALLOW_PICKLE is on. joblib and scikit-learn are imported then, never otherwise
    (they are the `pickle` extra, not in the serving image)."""

    input_names: list[str] = []  # one input of any name, or one per column (a DataFrame)

    def __init__(self, estimator: Any) -> None:
        self._estimator = estimator
        self._classifier = hasattr(estimator, "predict_proba")
        self.output_names = ["label", "probabilities"] if self._classifier else ["value"]
        # A forest's default n_jobs=-1 would start a thread pool for every single-row request.
        for name, value in estimator.get_params().items():
            if name.endswith("n_jobs") and value not in (None, 1):
                estimator.set_params(**{name: 1})

    @classmethod
    def load(cls, content: bytes) -> Self:
        import joblib

        return cls(joblib.load(io.BytesIO(content)))

    def _frame(self, inputs: Tensors) -> Any:
        """One array as is; several (one per column, [n, 1]) as the DataFrame a
        ColumnTransformer selects its columns from by name."""
        if len(inputs) == 1:
            return next(iter(inputs.values()))
        import pandas

        return pandas.DataFrame({name: np.asarray(v).reshape(len(v)) for name, v in inputs.items()})

    def run(self, inputs: Tensors) -> Outputs:
        rows = self._frame(inputs)
        if not self._classifier:
            return {"value": np.asarray(self._estimator.predict(rows), dtype=np.float64)}
        probabilities = np.asarray(self._estimator.predict_proba(rows), dtype=np.float64)
        classes = np.asarray(self._estimator.classes_)
        return {"label": classes[probabilities.argmax(axis=1)], "probabilities": probabilities}
