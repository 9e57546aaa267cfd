"""Tiny real models and data files for the import tests: a few trees, a few hundred rows (the
churn model and its customers come from training/example_model.py, as the README's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app.registry.repository import read_version
from app.registry.signature import Signature, read_signature
from training.example_model import churn_pipeline, customers

__all__ = ["churn_pipeline", "customers", "keras_rooms", "prices", "read_back", "write_eval"]

ROWS = 300


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


def read_back(registry: Path, name: str, version: int = 1) -> Signature:
    """The version as the server reads it (checksums, metadata.json), and its signature: the
    round trip from training to app/."""
    folder = registry / name / str(version)
    verified = read_version(folder, name, version, registry, False)
    return read_signature(verified.metadata.model_dump())


def keras_rooms(folder: Path) -> tuple[Any, pd.DataFrame]:
    """A tiny Keras classifier of the prices' rows into three price bands, saved as
    folder/model.keras with five example rows in folder/example.csv; the model and its rows."""
    import keras

    features, target = prices()
    features = features.fillna(0)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(2,), name="rows"),
            keras.layers.Rescaling(0.01),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    classes = np.digitize(target, np.quantile(target, [1 / 3, 2 / 3]))
    model.fit(features.to_numpy(np.float32), classes, epochs=1, verbose=0)
    model.save(folder / "model.keras")
    features.head().to_csv(folder / "example.csv", index=False)
    return model, features
