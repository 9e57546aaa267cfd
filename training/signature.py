"""The signature written into every version's metadata.json (models/README.md, format version 1):
named, typed input columns with what was observed in them, the artifact's tensors, and what its
outputs mean."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training.spec import Array, Dataset

FORMAT_VERSION = 1
EXAMPLE_FILE = "example.json"
EXAMPLE_ROWS = 5
NUMBER_TYPES = ("float32", "float64", "int64")
# A text column's most frequent categories kept as the drift reference; the rest are counted.
MAX_CATEGORIES = 100


def column_type(values: pd.Series) -> str:
    """The signature type of a data frame column: float32 | float64 | int64 | bool | string."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int64"
    if pd.api.types.is_float_dtype(dtype):
        return "float32" if dtype == np.float32 else "float64"
    return "string"


def is_missing(values: pd.Series) -> pd.Series:
    """Where a column has a gap: NaN / None, or an empty text cell."""
    gaps = values.isna()
    if values.dtype == object:
        gaps |= values.astype(str).str.strip() == ""
    return gaps


def observe(values: pd.Series, kind: str) -> dict[str, Any]:
    """What a column held: rows, gaps, and categories (text) or min/max/deciles (numbers)."""
    gaps = is_missing(values)
    present = values[~gaps]
    seen: dict[str, Any] = {"rows": int(len(values)), "missing": int(gaps.sum())}
    if kind == "string" or kind == "bool":
        counts = present.astype(str).value_counts()
        seen["categories"] = {str(k): int(v) for k, v in counts.head(MAX_CATEGORIES).items()}
        if len(counts) > MAX_CATEGORIES:
            seen["other"] = int(counts.iloc[MAX_CATEGORIES:].sum())
    elif len(present):
        numbers = present.to_numpy(dtype=np.float64)
        seen["min"], seen["max"] = float(numbers.min()), float(numbers.max())
        deciles = np.quantile(numbers, np.linspace(0.1, 0.9, 9))
        seen["deciles"] = [float(f"{q:.6g}") for q in deciles]
    return seen


def input_column(
    name: str, values: pd.Series, kind: str | None = None, optional: bool = False
) -> dict[str, Any]:
    """One entry of `inputs`, typed from the data unless `kind` is given."""
    kind = kind or column_type(values)
    seen = observe(values, kind)
    column: dict[str, Any] = {
        "name": name,
        "type": kind,
        "shape": [],
        "optional": bool(optional or seen["missing"]),
        "missing_value": "" if kind == "string" else None,
        "observed": seen,
    }
    return column


def classes(labels: list[Any]) -> dict[str, Any]:
    """`classes`: the labels as text, in the artifact's order, and what they were (0 and 1 are
    `int64`: the server answers them as numbers)."""
    values = [_json_value(label) for label in labels]
    if all(isinstance(v, bool) for v in values):
        return {"labels": [json.dumps(v) for v in values], "type": "bool"}
    if all(isinstance(v, int) for v in values):
        return {"labels": [str(v) for v in values], "type": "int64"}
    return {"labels": [str(v) for v in values], "type": "string"}


def build(
    task: str,
    inputs: list[dict[str, Any]],
    tensors: list[dict[str, Any]],
    outputs: dict[str, str | None],
    class_labels: list[Any] | None = None,
    targets: list[str] | None = None,
) -> dict[str, Any]:
    """The `signature` object of metadata.json."""
    return {
        "format_version": FORMAT_VERSION,
        "task": task,
        "inputs": inputs,
        "tensors": tensors,
        "outputs": {
            "label": outputs.get("label"),
            "probabilities": outputs.get("probabilities"),
            "value": outputs.get("value"),
        },
        "classes": classes(class_labels) if task == "classification" and class_labels else None,
        "targets": targets if task == "regression" else None,
        "example": EXAMPLE_FILE,
    }


def _json_value(value: Any) -> Any:
    """A cell as JSON: numpy scalars unwrapped, NaN as null."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def write_example(folder: Path, rows: pd.DataFrame) -> None:
    """The first few rows, as JSON records, beside metadata.json (and checksummed with it)."""
    records = [
        {str(k): _json_value(v) for k, v in row.items()}
        for row in rows.head(EXAMPLE_ROWS).to_dict("records")
    ]
    (folder / EXAMPLE_FILE).write_text(json.dumps(records, indent=1) + "\n")


def dataset_inputs(data: Dataset) -> list[dict[str, Any]]:
    """The inputs of a built-in dataset: Iris's named float64 columns, or MNIST's image."""
    spec = data.input_spec
    if spec["kind"] == "image":
        pixels = np.asarray(data.train_features)
        return [
            {
                "name": "image",
                "type": "image",
                "shape": list(spec["shape"]),
                "optional": False,
                "missing_value": None,
                "range": list(spec["range"]),
                "colour": spec["colour"],
                "ink": spec["ink"],
                "observed": {
                    "rows": len(pixels),
                    "missing": 0,
                    "min": float(pixels.min()),
                    "max": float(pixels.max()),
                },
            }
        ]
    frame = dataset_frame(data, data.train_features)
    columns = []
    for feature in spec["features"]:
        column = input_column(feature["name"], frame[feature["name"]], "float64")
        if feature.get("unit"):
            column["unit"] = feature["unit"]
        columns.append(column)
    return columns


def dataset_frame(data: Dataset, features: Array) -> pd.DataFrame:
    """Rows of a built-in dataset as the signature's columns (an image is one nested list)."""
    spec = data.input_spec
    if spec["kind"] == "image":
        shape = spec["shape"]
        images = np.asarray(features).reshape(len(features), *shape)
        return pd.DataFrame({"image": [image.astype(int).tolist() for image in images]})
    names = [feature["name"] for feature in spec["features"]]
    return pd.DataFrame(np.asarray(features, dtype=np.float64), columns=names)


def dataset_signature(
    data: Dataset, tensor: dict[str, Any], outputs: dict[str, str]
) -> dict[str, Any]:
    """The signature of a built-in model: one tensor holding every column side by side."""
    inputs = dataset_inputs(data)
    tensor = {**tensor, "columns": [column["name"] for column in inputs]}
    return build("classification", inputs, [tensor], dict(outputs), list(data.class_labels))
