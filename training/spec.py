"""What a trainer is: a named model, the data it learns from, and what fitting it produces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]


@dataclass(frozen=True)
class Dataset:
    """A train/test split plus what the registry records about its inputs and classes."""

    name: str
    train_features: Array
    train_targets: Array
    test_features: Array
    test_targets: Array
    class_labels: list[str]
    input_spec: dict[str, Any]
    split: str


@dataclass
class Trained:
    """A fitted model: how to score raw inputs, and how to write its files."""

    predict_proba: Callable[[Array], npt.NDArray[np.float64]]
    write_files: Callable[[Path], None]
    params: dict[str, Any]
    artifact: str  # the file of write_files the server loads: metadata.json names it
    extra_metrics: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelSpec:
    """One registry name and how to train it."""

    name: str
    dataset: str
    algorithm: str
    framework: str
    floor: float
    fit: Callable[[Dataset, bool], Trained]
