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
    source_files: list[Path] = field(default_factory=list)  # read for it: provenance checksums
    seed: int | None = None  # of the split; None for a fixed, published split


@dataclass
class Trained:
    """A fitted model: how to score raw inputs, and how to write its files."""

    predict_proba: Callable[[Array], npt.NDArray[np.float64]]
    write_files: Callable[[Path], None]
    params: dict[str, Any]
    artifact: str  # the file of write_files the server loads: metadata.json names it
    extra_metrics: dict[str, Any] = field(default_factory=dict)
    # Training and testing error (training/learning_curves.py), computed after the timed fit.
    learning_curve: Callable[[], dict[str, Any]] | None = None
    # The artifact's input tensor ({"name", "type", "shape"}) and its outputs by role
    # ({"probabilities": name, "label": name}): the signature's `tensors` and `outputs`.
    tensor: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelSpec:
    """One registry name and how to train it."""

    name: str
    dataset: str
    algorithm: str
    framework: str
    floor: float
    fit: Callable[[Dataset, bool], Trained]
    seed: int  # of the estimator or network: with the split's, all the randomness there is
