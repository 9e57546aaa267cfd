"""Import a user's model into the registry: read it, describe its inputs, export it, check the
export against it, evaluate it, and publish one new version through the promotion gate."""

from __future__ import annotations

import math
import platform
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from training import exporting, import_metrics, promotion, provenance, signature, verify
from training.importers import Export, ImportRefusedError, Original, columns, sklearn
from training.registry_writer import NAME_PATTERN, save_model

TASKS = ("classification", "regression")


@dataclass
class ImportOptions:
    """What python -m training import and publish() were asked."""

    name: str
    registry_dir: Path = Path("models")
    task: str | None = None
    promote: bool = True
    tolerance: float = verify.DEFAULT_TOLERANCE
    keep_pickle: bool = False
    source: str = "python"  # the file or folder imported, or "python" for publish()
    dataset: str | None = None  # what it is compared with (compare --dataset); default: name


@dataclass
class ImportData:
    """The example rows and the evaluation rows with their target, when given."""

    example: pd.DataFrame | None = None
    eval_features: pd.DataFrame | None = None
    eval_target: pd.Series | None = None
    eval_sha256: str | None = None
    eval_source: str | None = None


@dataclass
class Imported:
    """What was published, and the figures the command prints."""

    name: str
    version: int
    folder: Path
    artifact: str
    artifact_bytes: int
    seconds: float
    verification: dict[str, Any]
    metrics: dict[str, Any]
    promotion: str
    refused: bool
    inputs: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_name(name: str, what: str = "model name") -> None:
    if not NAME_PATTERN.match(name):
        raise ImportRefusedError(
            f"invalid {what} {name!r}: use lower-case letters, digits and '-' (at most 64)"
        )


def dataset_of_file(path: Path) -> str | None:
    """The dataset an eval file names: its stem in lower case, other characters as '-'
    (`Eval_2024.csv` -> `eval-2024`); None when nothing is left."""
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")[:64].rstrip("-")
    return slug if NAME_PATTERN.match(slug) else None


def _reference(original: Original, data: ImportData) -> tuple[pd.DataFrame, int]:
    """The example and eval rows in the model's column order, and how many are examples."""
    parts = []
    if data.example is not None:
        parts.append(columns.matched(original, data.example, "the example"))
    elif original.example is not None:
        parts.append(columns.matched(original, original.example, "the MLflow input example"))
    examples = len(parts[0]) if parts else 0
    if data.eval_features is not None:
        parts.append(columns.matched(original, data.eval_features, "the eval file"))
    if not parts:
        return columns.placeholder(original), 0
    return pd.concat(parts, ignore_index=True), examples


def import_original(
    original: Original, data: ImportData, options: ImportOptions, given: Export | None = None
) -> Imported:
    """Check, export, verify, evaluate and publish `original`; ImportRefusedError if it cannot."""
    started = time.perf_counter()
    check_name(options.name)
    if options.dataset is not None:
        check_name(options.dataset, "dataset name")
    task = options.task or original.task
    if task not in TASKS:
        raise ImportRefusedError(
            f"{original.algorithm}: cannot tell its task; say --task classification or "
            "--task regression"
        )
    if not options.keep_pickle:
        sklearn.refuse_python_functions(original.model)
    reference, examples = _reference(original, data)
    inputs = columns.inputs(original, reference)
    rows = reference
    if data.eval_features is None:
        rows = pd.concat([reference, columns.drawn(inputs, columns.DRAWN_ROWS)], ignore_index=True)
    exported, record = exporting.export_verified(
        original, inputs, task, options.keep_pickle, rows, options.tolerance, examples, given
    )
    class_labels = list(original.class_labels or [])
    if task == "classification" and not class_labels:
        class_labels = exporting.labels_seen(exported.predict(rows))
    metrics, plot = import_metrics.evaluate(task, exported, data, reference.columns, class_labels)
    example_rows = (
        data.example if data.example is not None else reference.head(signature.EXAMPLE_ROWS)
    )
    sig = signature.build(
        task,
        inputs,
        exported.tensors,
        exported.outputs,
        class_labels,
        targets=[str(data.eval_target.name)]
        if data.eval_target is not None and task == "regression"
        else ["value"],
    )

    def write_files(folder: Path) -> None:
        (folder / exported.artifact).write_bytes(exported.content)
        signature.write_example(folder, example_rows)
        if plot is not None:
            plot(folder)

    metadata = _metadata(original, data, options, sig, exported, record, metrics)
    folder = save_model(options.registry_dir, options.name, write_files, metadata)
    version = int(folder.name)
    promoted = promotion.decide_imported(
        options.registry_dir / options.name, version, metadata, options.promote
    )
    return Imported(
        options.name,
        version,
        folder,
        exported.artifact,
        len(exported.content),
        time.perf_counter() - started,
        record,
        metrics,
        promoted,
        promoted.startswith("NOT PROMOTED"),
        inputs,
        exported.notes,
    )


def _metadata(
    original: Original,
    data: ImportData,
    options: ImportOptions,
    sig: dict[str, Any],
    exported: Export,
    record: dict[str, Any],
    metrics: dict[str, Any],
) -> dict[str, Any]:
    """metadata.json of an imported version: the fields an older server reads, the signature,
    the verification figures and what the eval file was."""
    inputs, classes = sig["inputs"], sig["classes"]
    return {
        "dataset": options.dataset or options.name,
        "algorithm": original.algorithm,
        "framework": original.framework,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": False,
        "split": f"eval file sha256 {data.eval_sha256}" if data.eval_sha256 else "none (imported)",
        "input": {
            "kind": "tabular",
            "n_features": sum(math.prod(c["shape"]) for c in inputs),
            "features": [{"name": c["name"]} for c in inputs],
        },
        "class_labels": [str(label) for label in classes["labels"]] if classes else [],
        "signature": sig,
        "artifact": exported.artifact,
        "metrics": metrics,
        "verification": {**record, "export": exported.notes},
        "evaluation_data": {
            "sha256": data.eval_sha256,
            "rows": len(data.eval_features),
            "target": str(data.eval_target.name),
            "file": data.eval_source,
        }
        if data.eval_sha256 and data.eval_features is not None and data.eval_target is not None
        else None,
        "library_versions": {"python": platform.python_version(), **original.library_versions},
        "provenance": {
            "code": provenance.git_revision(),
            "command": provenance.command_line(),
            "source": options.source,
        },
    }
