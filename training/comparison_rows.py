"""One row of a comparison: a version's stored figures (its metadata.json metrics, never measured
again) and its serving cost, timed in a fresh process on the dataset's test rows (models trained
here) or on its own example rows (imported models, which may have no test rows)."""

from __future__ import annotations

import hashlib
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from training import example_rows, serving_cost
from training.learning_curves import final_gap
from training.spec import Array

# What each task is compared by, the first one the Pareto front's (higher is better for both).
METRICS = {"classification": ("accuracy", "macro_f1"), "regression": ("r2", "mae", "rmse")}
PRIMARY = {task: names[0] for task, names in METRICS.items()}

# Registries written before metadata.json named its artifact: the file the server serves for
# each framework, in its order of preference (app/registry/repository.py, LEGACY_ARTIFACTS).
LEGACY_ARTIFACTS = {"sklearn": ("model.onnx", "model.joblib"), "keras": ("model.tflite",)}


class ComparisonError(Exception):
    """The registry holds nothing to compare for this dataset, or a file fails its checks."""


def artifact_of(metadata: dict[str, Any]) -> str:
    """The file the server loads for this version: the one metadata.json names, or in an
    older registry the framework's preferred file that metadata.json lists."""
    if "artifact" in metadata:
        return str(metadata["artifact"])
    for candidate in LEGACY_ARTIFACTS.get(metadata.get("framework", ""), ()):
        if candidate in metadata["files"]:
            return candidate
    raise KeyError("artifact")


def task_of(row_or_metadata: dict[str, Any]) -> str:
    """classification | regression: a row's `task`, or a version's signature's (older versions
    without a signature are the classifiers trained here)."""
    if "task" in row_or_metadata:
        return str(row_or_metadata["task"])
    return str((row_or_metadata.get("signature") or {}).get("task", "classification"))


def is_imported(metadata: dict[str, Any]) -> bool:
    """Imported (python -m training import, publish()): fitted elsewhere, checked at import."""
    return "verification" in metadata


def figures(name: str, number: int, metadata: dict[str, Any]) -> dict[str, Any]:
    """What metadata.json says of the version: its task's metrics (None when it was imported
    without --eval), its training and testing error, training seconds and artifact size."""
    artifact = artifact_of(metadata)
    metrics = metadata["metrics"]
    task = task_of(metadata)
    train_error, test_error = (
        final_gap(metrics["learning_curve"]) if "learning_curve" in metrics else (None, None)
    )
    return {
        "name": name,
        "version": number,
        "task": task,
        "imported": is_imported(metadata),
        "algorithm": metadata["algorithm"],
        "artifact": artifact,
        "quick": metadata.get("quick", False),
        **{metric: metrics.get(metric) for metric in METRICS[task]},
        "evaluated_rows": metrics.get("test_samples"),
        "train_error": train_error,
        "test_error": test_error,
        "training_seconds": metrics.get("training_seconds"),
        "artifact_bytes": metadata["files"][artifact]["bytes"],
    }


def verified_artifact(folder: Path, metadata: dict[str, Any]) -> bytes:
    """The artifact metadata.json names, checked against its SHA-256 (what is timed is what
    the server would load)."""
    artifact = artifact_of(metadata)
    content: bytes = (folder / artifact).read_bytes()
    if hashlib.sha256(content).hexdigest() != metadata["files"][artifact]["sha256"]:
        raise ComparisonError(f"{folder / artifact} does not match its recorded SHA-256")
    return content


def measured_row(
    folder: Path,
    row: dict[str, Any],
    metadata: dict[str, Any],
    test_rows: Array | None,
    seconds: float,
) -> dict[str, Any]:
    """`row` with the serving cost, `timed_on` "test" (`test_rows`, for a model trained here: one
    tensor of the rows side by side) or "example" (the version's example rows, fed as its
    signature says), and `timed_rows`, how many."""
    artifact = row["artifact"]
    if artifact not in serving_cost.LOADERS:
        return {**row, "not_measured": f"{artifact} is served only with SERVING_ALLOW_PICKLE"}
    content = verified_artifact(folder, metadata)
    job: partial[dict[str, Any]]
    if test_rows is not None and not row["imported"]:
        job = partial(serving_cost.measure, artifact, content, test_rows, seconds)
        timed_on, timed_rows = "test", len(test_rows)
    elif example_rows.has_example(metadata):
        try:
            tensors = example_rows.example_tensors(folder, metadata)
        except example_rows.ExampleRowsError as exc:
            raise ComparisonError(f"{row['name']} version {row['version']}: {exc}") from exc
        outputs = example_rows.output_names(metadata)
        job = partial(serving_cost.measure_tensors, artifact, content, tensors, outputs, seconds)
        timed_on, timed_rows = "example", len(next(iter(tensors.values())))
    else:
        return {**row, "not_measured": "no example rows (example.json) to time it on"}
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as fresh:
        cost = fresh.submit(job).result()
    return {**row, "timed_on": timed_on, "timed_rows": timed_rows, **cost}


def pareto(rows: list[dict[str, Any]]) -> None:
    """Mark the rows no other row of their task beats on both its main metric (accuracy, R²)
    and one-row latency; a row without either is not on the front."""

    def point(row: dict[str, Any]) -> tuple[str, float, float] | None:
        task = task_of(row)
        metric, latency = row.get(PRIMARY[task]), row.get("one_row_median_us")
        return None if metric is None or latency is None else (task, metric, latency)

    points = [point(row) for row in rows]
    for row, mine in zip(rows, points, strict=True):
        row["pareto"] = mine is not None and not any(
            other is not None
            and other is not mine
            and other[0] == mine[0]
            and other[1] >= mine[1]
            and other[2] <= mine[2]
            and (other[1] > mine[1] or other[2] < mine[2])
            for other in points
        )
