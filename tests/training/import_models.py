"""Tiny real models and data files for the import tests: a few trees, a few hundred rows (the
churn model and its customers come from training/example_model.py, as the README's)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from app.registry.repository import read_version
from app.registry.signature import Signature, read_signature
from training.example_model import churn_pipeline, customers

__all__ = ["churn_pipeline", "customers", "prices", "read_back", "write_eval"]

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
