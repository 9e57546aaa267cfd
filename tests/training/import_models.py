"""Tiny real models and data files for the import tests: a few trees, a few hundred rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROWS = 300


def customers(rows: int = ROWS) -> tuple[pd.DataFrame, pd.Series]:
    """Text, integer and float columns, the float one with gaps; a yes/no target."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "city": rng.choice(["paris", "lyon", "nice"], rows),
            "age": rng.integers(18, 90, rows),
            "income": rng.normal(50, 10, rows),
        }
    )
    frame.loc[::13, "income"] = np.nan
    churned = (frame.age > 50) ^ (frame.city == "nice")
    return frame, pd.Series(np.where(churned, "yes", "no"), name="churned")


def churn_pipeline(max_depth: int = 6) -> Any:
    """ColumnTransformer (one-hot text; imputed, scaled numbers) feeding a small forest."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    columns = ColumnTransformer(
        [
            ("text", OneHotEncoder(handle_unknown="ignore"), ["city"]),
            ("numbers", make_pipeline(SimpleImputer(), StandardScaler()), ["age", "income"]),
        ]
    )
    features, target = customers()
    model = make_pipeline(
        columns, RandomForestClassifier(n_estimators=5, max_depth=max_depth, random_state=0)
    )
    return model.fit(features, target)


def prices(rows: int = ROWS) -> tuple[pd.DataFrame, pd.Series]:
    """Two float columns, one with gaps; a numeric target."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {"area": rng.uniform(20, 200, rows), "rooms": rng.integers(1, 7, rows).astype(float)}
    )
    target = pd.Series(frame.area * 3 + frame.rooms * 10 + rng.normal(0, 5, rows), name="price")
    frame.loc[::11, "rooms"] = np.nan
    return frame, target


def write_eval(path: Path, features: pd.DataFrame, target: pd.Series) -> Path:
    frame = features.copy()
    frame[target.name] = target.to_numpy()
    frame.to_csv(path, index=False)
    return path
