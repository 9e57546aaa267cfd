"""Tiny real models of the kind users import (issue 22): a scikit-learn Pipeline with a
ColumnTransformer over text, integer and float columns with gaps, and a regressor, each
exported with skl2onnx (one ONNX input per column) and written as a registry version with a
signature (models/README.md) by hand, as training's importer writes them."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType, Int64TensorType, StringTensorType
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

CITIES = ["paris", "lyon", "nice", ""]  # "" is how the training data marked a missing city
PLANS = ["basic", "pro"]
ONNX_TYPES = {"city": StringTensorType, "plan": StringTensorType}
ONNX_TYPES.update({"age": FloatTensorType, "visits": Int64TensorType})


def churn_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """Customers: city (text, "" when unknown), plan (text), age (gaps), visits (integer)."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(18, 90, rows)
    age[rng.random(rows) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "city": rng.choice(CITIES, rows),
            "plan": rng.choice(PLANS, rows),
            "age": age,
            "visits": rng.integers(0, 30, rows),
        }
    )


def churned(frame: pd.DataFrame) -> np.ndarray:
    return np.where((frame["visits"] > 12) ^ (frame["plan"] == "pro"), "yes", "no")


def spend(frame: pd.DataFrame) -> np.ndarray:
    return np.asarray(frame["visits"] * 3.0 + np.nan_to_num(frame["age"]) / 10)


def _age() -> Pipeline:
    return make_pipeline(SimpleImputer(), StandardScaler())


def fit_classifier(frame: pd.DataFrame) -> Pipeline:
    columns = ColumnTransformer(
        [
            ("text", OneHotEncoder(handle_unknown="ignore"), ["city", "plan"]),
            ("age", _age(), ["age"]),
            ("visits", StandardScaler(), ["visits"]),
        ]
    )
    return Pipeline([("columns", columns), ("model", LogisticRegression())]).fit(
        frame, churned(frame)
    )


REGRESSOR_COLUMNS = ["age", "visits", "plan"]


def fit_regressor(frame: pd.DataFrame) -> Pipeline:
    columns = ColumnTransformer(
        [
            ("age", _age(), ["age"]),
            ("visits", StandardScaler(), ["visits"]),
            ("plan", OneHotEncoder(handle_unknown="ignore"), ["plan"]),
        ]
    )
    data = frame[REGRESSOR_COLUMNS]
    return Pipeline([("columns", columns), ("model", Ridge())]).fit(data, spend(frame))


def export(model: Pipeline, names: list[str]) -> bytes:
    types = [(name, ONNX_TYPES[name]([None, 1])) for name in names]
    options = {id(model): {"zipmap": False}} if hasattr(model, "predict_proba") else None
    onx = to_onnx(model, initial_types=types, options=options)
    return bytes(onx.SerializeToString())


COLUMNS: dict[str, dict[str, Any]] = {
    "city": {
        "name": "city",
        "type": "string",
        "optional": True,
        "missing_value": "",
        "observed": {"categories": {"paris": 50, "lyon": 50, "nice": 50, "": 50}},
    },
    "plan": {"name": "plan", "type": "string", "observed": {"categories": {"basic": 1, "pro": 1}}},
    "age": {
        "name": "age",
        "type": "float64",
        "optional": True,
        "unit": "years",
        "observed": {"min": 18.0, "max": 90.0},
    },
    "visits": {"name": "visits", "type": "int64", "observed": {"min": 0.0, "max": 29.0}},
}
TENSOR_TYPES = {"city": "string", "plan": "string", "age": "float32", "visits": "int64"}


def signature(names: list[str], task: str, example: str | None = "example.json") -> dict[str, Any]:
    """The signature an importer writes for these columns (format version 1)."""
    document: dict[str, Any] = {
        "format_version": 1,
        "task": task,
        "inputs": [{"shape": [], **COLUMNS[name]} for name in names],
        "tensors": [
            {"name": name, "type": TENSOR_TYPES[name], "columns": [name], "shape": [1]}
            for name in names
        ],
        "example": example,
    }
    if task == "classification":
        document["outputs"] = {"label": "label", "probabilities": "probabilities"}
        document["classes"] = {"labels": ["no", "yes"], "type": "string"}
    else:
        document["outputs"] = {"value": "variable"}
        document["targets"] = ["spend"]
    if example is None:
        del document["example"]
    return document


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON records: a gap is null."""
    rows = [
        {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]
    return json.loads(json.dumps(rows, default=int))  # numpy integers as JSON numbers


def write_version(
    registry: Path,
    name: str,
    version: int,
    artifact: bytes,
    signature_document: dict[str, Any],
    example: list[dict[str, Any]] | None = None,
    metrics: dict[str, Any] | None = None,
    artifact_name: str = "model.onnx",
) -> Path:
    """A version folder as training writes it: metadata.json with checksums of every file."""
    folder = registry / name / str(version)
    folder.mkdir(parents=True)
    contents = {artifact_name: artifact}
    if example is not None:
        contents["example.json"] = json.dumps(example).encode()
    files = {}
    for file_name, data in contents.items():
        (folder / file_name).write_bytes(data)
        files[file_name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    metadata = {
        "name": name,
        "version": version,
        "dataset": "churn",
        "algorithm": "pipeline",
        "framework": "sklearn",
        "created_at": "2026-12-01T00:00:00Z",
        "metrics": metrics or {},
        "files": files,
        "artifact": artifact_name,
        "signature": signature_document,
    }
    (folder / "metadata.json").write_text(json.dumps(metadata))
    return folder


@dataclass
class TabularModels:
    """A registry with `churn` (classifier) and `spend` (regressor), version 1 each, and the
    scikit-learn originals they were exported from."""

    registry: Path
    classifier: Pipeline
    regressor: Pipeline
    classifier_onnx: bytes
    regressor_onnx: bytes


CLASSIFIER_COLUMNS = ["city", "plan", "age", "visits"]


def build(registry: Path) -> TabularModels:
    frame = churn_frame(300)
    classifier, regressor = fit_classifier(frame), fit_regressor(frame)
    classifier_onnx = export(classifier, CLASSIFIER_COLUMNS)
    regressor_onnx = export(regressor, REGRESSOR_COLUMNS)
    example = records(churn_frame(5, seed=1))
    write_version(
        registry,
        "churn",
        1,
        classifier_onnx,
        signature(CLASSIFIER_COLUMNS, "classification"),
        example,
        {"accuracy": 0.9, "macro_f1": 0.89, "eval_rows": 100},
    )
    write_version(
        registry,
        "spend",
        1,
        regressor_onnx,
        signature(REGRESSOR_COLUMNS, "regression"),
        [{k: row[k] for k in REGRESSOR_COLUMNS} for row in example],
        {"mae": 0.5, "rmse": 0.7, "r2": 0.98, "eval_rows": 100},
    )
    return TabularModels(registry, classifier, regressor, classifier_onnx, regressor_onnx)


REFERENCE_ROWS = 5000


def with_drift_references(models: TabularModels, registry: Path) -> Path:
    """A copy of the tabular registry at `registry`, with churn's signature observing what
    training's signature.py records (deciles, category counts, gaps) and an eval confusion
    matrix: the references drift is computed against (docs/monitoring.md, "Drift")."""
    shutil.copytree(models.registry, registry)
    path = registry / "churn" / "1" / "metadata.json"
    metadata = json.loads(path.read_text())
    frame = churn_frame(REFERENCE_ROWS, seed=7)
    for column in metadata["signature"]["inputs"]:
        values = frame[column["name"]]
        if column["type"] == "string":
            counts = values.value_counts()
            column["observed"] = {"rows": REFERENCE_ROWS, "missing": 0}
            column["observed"]["categories"] = {str(k): int(v) for k, v in counts.items()}
        else:
            present = values.dropna().to_numpy(dtype=float)
            deciles = np.quantile(present, np.linspace(0.1, 0.9, 9)).tolist()
            missing = int(values.isna().sum())
            column["observed"] = {"rows": REFERENCE_ROWS, "missing": missing, "deciles": deciles}
    predicted = models.classifier.predict(frame)
    mix = [int((predicted == "no").sum()), int((predicted == "yes").sum())]
    metadata["metrics"]["confusion_matrix"] = [[mix[0], 0], [0, mix[1]]]
    path.write_text(json.dumps(metadata))
    return registry
