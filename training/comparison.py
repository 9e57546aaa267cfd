"""The models of a dataset side by side: accuracy against what they cost to train and serve."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from importlib.metadata import version
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from training import labels, serving_cost
from training.learning_curves import final_gap
from training.registry_writer import METADATA_FILE, NAME_PATTERN, file_digest
from training.spec import Array

# Beside the models, under a name that is not a model name: the server's scan skips it.
FOLDER = "_comparisons"
FILES = ("comparison.json", "comparison.md", "comparison.png")


class ComparisonError(Exception):
    """The registry holds nothing to compare for this dataset."""


# Registries written before metadata.json named its artifact: the file the server serves for
# each framework, in its order of preference (app/registry/repository.py, LEGACY_ARTIFACTS).
LEGACY_ARTIFACTS = {"sklearn": ("model.onnx", "model.joblib"), "keras": ("model.tflite",)}


def artifact_of(metadata: dict[str, Any]) -> str:
    """The file the server loads for this version: the one metadata.json names, or in an
    older registry the framework's preferred file that metadata.json lists."""
    if "artifact" in metadata:
        return str(metadata["artifact"])
    for candidate in LEGACY_ARTIFACTS.get(metadata.get("framework", ""), ()):
        if candidate in metadata["files"]:
            return candidate
    raise KeyError("artifact")


def serving_versions(registry_dir: Path, dataset: str) -> list[tuple[str, int, dict[str, Any]]]:
    """(name, version, metadata) of each model of `dataset` at the version unpinned requests go
    to: the one labelled production, else the newest (as app/registry/registry.py resolves them)."""
    chosen = []
    for model_root in sorted(registry_dir.iterdir()):
        versions = (
            labels.versions_on_disk(model_root) if NAME_PATTERN.match(model_root.name) else []
        )
        if not versions:
            continue
        production = labels.read(model_root)["labels"].get(labels.PRODUCTION)
        number = production["version"] if production else max(versions)
        try:
            metadata = json.loads((model_root / str(number) / METADATA_FILE).read_text())
            metadata["files"][artifact_of(metadata)]["sha256"]  # noqa: B018 (fail here, not later)
        except (ValueError, KeyError, TypeError) as exc:
            raise ComparisonError(
                f"{model_root.name} version {number}: unusable metadata.json ({exc!r})"
            ) from exc
        if metadata.get("dataset") == dataset:
            chosen.append((model_root.name, number, metadata))
    if not chosen:
        raise ComparisonError(f"no model of dataset {dataset!r} in {registry_dir}")
    return chosen


def fingerprint(chosen: list[tuple[str, int, dict[str, Any]]]) -> dict[str, Any]:
    """What the comparison was made from: each model's version and artifact checksum."""
    return {
        name: {"version": number, "sha256": metadata["files"][artifact_of(metadata)]["sha256"]}
        for name, number, metadata in chosen
    }


def verified_artifact(folder: Path, metadata: dict[str, Any]) -> bytes:
    """The artifact metadata.json names, checked against its SHA-256 (what is timed is what
    the server would load)."""
    artifact = artifact_of(metadata)
    content: bytes = (folder / artifact).read_bytes()
    if hashlib.sha256(content).hexdigest() != metadata["files"][artifact]["sha256"]:
        raise ComparisonError(f"{folder / artifact} does not match its recorded SHA-256")
    return content


def pareto(rows: list[dict[str, Any]]) -> None:
    """Mark the rows no other row beats on both accuracy and one-row latency."""
    for row in rows:
        row["pareto"] = row.get("one_row_median_us") is not None and not any(
            other is not row
            and other.get("one_row_median_us") is not None
            and other["accuracy"] >= row["accuracy"]
            and other["one_row_median_us"] <= row["one_row_median_us"]
            and (
                other["accuracy"] > row["accuracy"]
                or other["one_row_median_us"] < row["one_row_median_us"]
            )
            for other in rows
        )


def build(
    registry_dir: Path, dataset: str, test_rows: Array, seconds: float = serving_cost.SECONDS
) -> dict[str, Any]:
    """Measure every serving version of `dataset`, each in a fresh process, on `test_rows`."""
    chosen = serving_versions(registry_dir, dataset)
    rows = []
    spawn = get_context("spawn")
    for name, number, metadata in chosen:
        artifact = artifact_of(metadata)
        folder = registry_dir / name / str(number)
        metrics = metadata["metrics"]
        train_error, test_error = (
            final_gap(metrics["learning_curve"]) if "learning_curve" in metrics else (None, None)
        )
        row: dict[str, Any] = {
            "name": name,
            "version": number,
            "algorithm": metadata["algorithm"],
            "artifact": artifact,
            "quick": metadata.get("quick", False),
            "accuracy": metrics["accuracy"],
            "macro_f1": metrics["macro_f1"],
            "train_error": train_error,
            "test_error": test_error,
            "training_seconds": metrics.get("training_seconds"),
            "artifact_bytes": metadata["files"][artifact]["bytes"],
        }
        if artifact in serving_cost.LOADERS:
            content = verified_artifact(folder, metadata)
            with ProcessPoolExecutor(1, mp_context=spawn) as fresh:
                row.update(
                    fresh.submit(
                        serving_cost.measure, artifact, content, test_rows, seconds
                    ).result()
                )
        else:
            row["not_measured"] = f"{artifact} is served only with SERVING_ALLOW_PICKLE"
        rows.append(row)
    pareto(rows)
    return {
        "dataset": dataset,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "measured_with": {
            "runtimes": {
                dist: version(dist) for dist in sorted(set(serving_cost.RUNTIMES.values()))
            },
            "threads": 1,
            "seconds_per_measurement": seconds,
            "batch_rows": serving_cost.BATCH_ROWS,
            "input": f"the first {len(test_rows)} test rows",
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        },
        "models": fingerprint(chosen),
        "rows": rows,
    }


def markdown(comparison: dict[str, Any]) -> str:
    """The comparison as a Markdown table, best accuracy first."""
    header = (
        "| model | version | accuracy | macro F1 | train / test error | training s | artifact MB "
        "| memory MB | 1 row median µs | 1 row p99 µs | 256-row batch rows/s | Pareto |"
    )
    lines = [
        f"Dataset **{comparison['dataset']}**, measured {comparison['created_at']} through "
        + ", ".join(f"{k} {v}" for k, v in comparison["measured_with"]["runtimes"].items())
        + f" (1 thread; {comparison['measured_with']['machine']}).",
        "",
        header,
        "|" + "---|" * (header.count("|") - 1),
    ]

    def number(value: Any, pattern: str) -> str:
        return "n/a" if value is None else format(value, pattern)

    for row in sorted(comparison["rows"], key=lambda r: -r["accuracy"]):
        gap = f"{number(row['train_error'], '.3f')} / {number(row['test_error'], '.3f')}"
        memory = row.get("memory_bytes")
        cells = [
            row["name"],
            row["version"],
            f"{row['accuracy']:.4f}",
            f"{row['macro_f1']:.4f}",
            gap,
            number(row["training_seconds"], ".1f"),
            f"{row['artifact_bytes'] / 1e6:.2f}",
            number(None if memory is None else memory / 1e6, ".1f"),
            number(row.get("one_row_median_us"), ",.0f"),
            number(row.get("one_row_p99_us"), ",.0f"),
            number(row.get("batch_rows_per_second"), ",.0f"),
            "yes" if row.get("pareto") else "",
        ]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    return "\n".join(lines) + "\n"


def write(registry_dir: Path, comparison: dict[str, Any], plot: Any) -> Path:
    """Write comparison.{md,png,json} under _comparisons/<dataset>/; comparison.json last, with
    the SHA-256 of the other two, so the server serves only the files this run wrote."""
    folder: Path = registry_dir / FOLDER / str(comparison["dataset"])
    folder.mkdir(parents=True, exist_ok=True)

    def replace(name: str, write_to: Any) -> None:
        partial = folder / f".partial-{name}"
        write_to(partial)
        os.replace(partial, folder / name)  # a reader sees the old file or the new, whole

    replace("comparison.md", lambda path: path.write_text(markdown(comparison)))
    replace("comparison.png", lambda path: plot(path, comparison))
    comparison["files"] = {name: file_digest(folder / name) for name in FILES[1:]}
    replace(
        "comparison.json", lambda path: path.write_text(json.dumps(comparison, indent=2) + "\n")
    )
    return folder
