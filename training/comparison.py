"""The models of a dataset side by side: their held-out metrics (accuracy and macro F1, or R² and
MAE for regressors) against what they cost to train and serve."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from training import labels, serving_cost
from training.comparison_rows import (
    ComparisonError,
    artifact_of,
    figures,
    measured_row,
    pareto,
)
from training.comparison_table import markdown
from training.registry_writer import METADATA_FILE, NAME_PATTERN, file_digest
from training.spec import Array

# Beside the models, under a name that is not a model name: the server's scan skips it.
FOLDER = "_comparisons"
FILES = ("comparison.json", "comparison.md", "comparison.png")


def serving_versions(registry_dir: Path, dataset: str) -> list[tuple[str, int, dict[str, Any]]]:
    """(name, version, metadata) of each model of `dataset` at the version unpinned requests go
    to: the one labelled production, else the newest (as app/registry/registry.py resolves them)."""
    chosen, seen = [], set()
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
        seen.add(str(metadata.get("dataset")))
        if metadata.get("dataset") == dataset:
            chosen.append((model_root.name, number, metadata))
    if not chosen:
        known = f" (its datasets: {', '.join(sorted(seen))})" if seen else ""
        raise ComparisonError(f"no model of dataset {dataset!r} in {registry_dir}{known}")
    return chosen


def fingerprint(chosen: list[tuple[str, int, dict[str, Any]]]) -> dict[str, Any]:
    """What the comparison was made from: each model's version and artifact checksum."""
    return {
        name: {"version": number, "sha256": metadata["files"][artifact_of(metadata)]["sha256"]}
        for name, number, metadata in chosen
    }


def _timed_on(rows: list[dict[str, Any]]) -> str:
    """What the rows were timed on, in words (the web page's caption)."""
    tested = [row["timed_rows"] for row in rows if row.get("timed_on") == "test"]
    said = [f"the first {tested[0]} test rows"] if tested else []
    if any(row.get("timed_on") == "example" for row in rows):
        said.append(
            ("imported models: " if said else "")
            + "each model's example rows (example.json), repeated into batches"
        )
    return "; ".join(said)


def build(
    registry_dir: Path,
    dataset: str,
    test_rows: Array | None,
    seconds: float = serving_cost.SECONDS,
) -> dict[str, Any]:
    """Every serving version of `dataset` with its stored metrics, each timed in a fresh
    process: on `test_rows` (the built-in datasets) or on its own example rows."""
    chosen = serving_versions(registry_dir, dataset)
    rows = [
        measured_row(
            registry_dir / name / str(number),
            figures(name, number, metadata),
            metadata,
            test_rows,
            seconds,
        )
        for name, number, metadata in chosen
    ]
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
            "input": _timed_on(rows),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        },
        "models": fingerprint(chosen),
        "rows": rows,
    }


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
