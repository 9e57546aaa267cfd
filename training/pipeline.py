"""Train a selection of models, evaluate them on held-out data and publish them to the registry."""

from __future__ import annotations

import logging
import platform
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from training import (
    iris,
    keras_models,
    learning_curves,
    mnist,
    progress,
    promotion,
    provenance,
    signature,
)
from training.evaluation import evaluate
from training.plots import confusion_matrix_plot, learning_curve_plot
from training.registry_writer import existing_versions, save_model
from training.spec import Array, Dataset, ModelSpec, Trained

logger = logging.getLogger(__name__)

SPECS: list[ModelSpec] = [*iris.SPECS, *mnist.SPECS, *keras_models.SPECS]
EVALUATION_CHUNK = 1000
LIBRARIES = {
    "sklearn": ["numpy", "scikit-learn", "joblib", "skl2onnx", "onnxruntime"],
    "keras": ["numpy", "keras", "tensorflow", "ai-edge-litert"],
}


@dataclass(frozen=True)
class Outcome:
    """One line of the summary table."""

    name: str
    version: int
    accuracy: float
    floor: float
    seconds: float
    artifact_bytes: int
    promotion: str = ""  # "promoted", or why not
    refused: bool = False  # the gate said no


def library_versions(framework: str) -> dict[str, str]:
    """Versions of Python and the libraries a framework's artifacts must be loaded with."""
    found = {"python": platform.python_version()}
    for package in LIBRARIES[framework]:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def _predict_in_chunks(trained: Trained, features: Array, label: str) -> Array:
    chunks = range(0, len(features), EVALUATION_CHUNK)
    parts = [
        trained.predict_proba(features[start : start + EVALUATION_CHUNK])
        for start in tqdm(chunks, desc=f"{label} evaluate", leave=False, disable=len(chunks) < 3)
    ]
    return np.concatenate(parts)


@dataclass(frozen=True)
class Promotion:
    """Whether published versions go through the gate to `production`, and its tolerance."""

    automatic: bool = True
    tolerance: float = promotion.DEFAULT_TOLERANCE


def _promote(model_root: Path, version: int, metadata: dict[str, Any], policy: Promotion) -> str:
    """Promote the new version when the gate allows it; the outcome, said in words."""
    if not policy.automatic:
        return "not promoted (--no-promote)"
    reason = promotion.refusal(model_root, metadata, metadata["quick"], policy.tolerance)
    if reason is not None:
        return f"NOT PROMOTED: {reason}"
    promotion.promote(model_root, version, promotion.AUTOMATIC)
    return "promoted to production"


def train_one(
    spec: ModelSpec, data: Dataset, registry_dir: Path, quick: bool, policy: Promotion
) -> Outcome:
    """Fit, evaluate on the test split, save one version with metadata and plots, and put it
    through the promotion gate."""
    started = time.perf_counter()
    trained = spec.fit(data, quick)
    training_seconds = time.perf_counter() - started
    probabilities = _predict_in_chunks(trained, data.test_features, spec.name)
    metrics = evaluate(data.test_targets, probabilities, data.class_labels)
    metrics.update(trained.extra_metrics)
    metrics["training_seconds"] = round(training_seconds, 2)
    if trained.learning_curve is not None:
        metrics["learning_curve"] = trained.learning_curve()

    def write_files(folder: Path) -> None:
        trained.write_files(folder)
        signature.write_example(folder, signature.dataset_frame(data, data.test_features[:2]))
        if "learning_curve" in metrics:
            learning_curve_plot(
                folder / "learning_curve.png",
                metrics["learning_curve"],
                f"{spec.name}: training and testing error",
            )
        confusion_matrix_plot(
            folder / "confusion_matrix.png",
            metrics["confusion_matrix"],
            data.class_labels,
            f"{spec.name}: accuracy {metrics['accuracy']:.4f}",
        )

    metadata: dict[str, Any] = {
        "dataset": spec.dataset,
        "algorithm": spec.algorithm,
        "framework": spec.framework,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "split": data.split,
        "input": data.input_spec,
        "class_labels": data.class_labels,
        "signature": signature.dataset_signature(data, trained.tensor, trained.outputs),
        "artifact": trained.artifact,
        "params": trained.params,
        "metrics": metrics,
        "accuracy_floor": spec.floor,
        "library_versions": library_versions(spec.framework),
        "provenance": {
            "code": provenance.git_revision(),
            "command": provenance.command_line(),
            "dataset_files": provenance.dataset_digests(data.source_files),
            "seeds": {
                "split": data.seed,
                "model": spec.seed,
                "learning_curve": learning_curves.SEED,
            },
        },
    }
    folder = save_model(registry_dir, spec.name, write_files, metadata)
    artifact_bytes = (folder / trained.artifact).stat().st_size
    logger.info("saved %s version %s (accuracy %.4f)", spec.name, folder.name, metrics["accuracy"])
    promoted = _promote(registry_dir / spec.name, int(folder.name), metadata, policy)
    return Outcome(
        spec.name,
        int(folder.name),
        metrics["accuracy"],
        spec.floor,
        time.perf_counter() - started,
        artifact_bytes,
        promoted,
        promoted.startswith("NOT PROMOTED"),
    )


def select(names: list[str] | None, datasets: list[str] | None) -> list[ModelSpec]:
    """The specs named (in the registry's order), or those of the datasets, or all."""
    chosen = [
        spec
        for spec in SPECS
        if (not names or spec.name in names) and (not datasets or spec.dataset in datasets)
    ]
    unknown = set(names or []) - {spec.name for spec in SPECS}
    if unknown:
        raise ValueError(f"unknown model(s): {', '.join(sorted(unknown))}")
    return chosen


def run(
    specs: list[ModelSpec],
    registry_dir: Path,
    mnist_dir: Path | None,
    quick: bool = False,
    missing_only: bool = False,
    policy: Promotion | None = None,
) -> list[Outcome]:
    """Train each spec (skipping those already in the registry when `missing_only`)."""
    if missing_only:
        specs = [s for s in specs if not existing_versions(registry_dir / s.name)]
    if not specs:
        return []
    loaders = {"iris": lambda: iris.load(), "mnist": lambda: mnist.load(mnist_dir, quick)}
    datasets: dict[str, Dataset] = {}
    outcomes = []
    with progress.tracked(registry_dir, [spec.name for spec in specs]) as pending:
        for spec in tqdm(specs, desc="models", unit="model"):
            if spec.dataset not in datasets:
                datasets[spec.dataset] = loaders[spec.dataset]()
            outcome = train_one(
                spec, datasets[spec.dataset], registry_dir, quick, policy or Promotion()
            )
            outcomes.append(outcome)
            pending.landed(spec.name)
    return outcomes
