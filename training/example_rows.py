"""A version's example rows (example.json, checked against the SHA-256 metadata.json records) as
its artifact's input tensors, fed as its signature says: what compare times an imported model on,
since it may have no test rows."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training.importers.onnx import feeds
from training.signature import EXAMPLE_FILE
from training.spec import Array


class ExampleRowsError(Exception):
    """The version's example rows are damaged or do not fit its tensors; the message says why."""


def _column(values: pd.Series, column: dict[str, Any]) -> pd.Series:
    """One column held as the server holds it before the cast to its tensor: numbers as floats
    (NaN for a gap; an integer gap as 0, which no integer tensor can hold), text with its
    missing value, booleans, a shaped column (an image) as its nested lists."""
    kind = column["type"]
    if column.get("shape") not in (None, [], [1]):
        return values
    if kind == "string":
        missing = column.get("missing_value")
        filler = missing if isinstance(missing, str) else ""
        return values.map(lambda v: filler if v is None else str(v)).astype(object)
    if kind == "bool":
        return values.astype(bool)
    numbers = pd.to_numeric(values, errors="coerce").astype(np.float64)
    return numbers.fillna(0) if kind == "int64" else numbers


def has_example(metadata: dict[str, Any]) -> bool:
    """Whether the version has a signature and the example rows it names."""
    signature = metadata.get("signature") or {}
    return bool(signature) and (signature.get("example") or EXAMPLE_FILE) in metadata["files"]


def read_example(folder: Path, metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """The records of example.json, only if its bytes are those metadata.json records."""
    name = metadata["signature"].get("example") or EXAMPLE_FILE
    recorded = metadata["files"][name]
    content = (folder / name).read_bytes()
    if hashlib.sha256(content).hexdigest() != recorded["sha256"]:
        raise ExampleRowsError(f"{folder / name} does not match its recorded SHA-256")
    try:
        records = json.loads(content)
    except ValueError as exc:
        raise ExampleRowsError(f"{folder / name} is not valid JSON") from exc
    if not isinstance(records, list) or not records:
        raise ExampleRowsError(f"{folder / name} holds no rows")
    return records


def example_tensors(folder: Path, metadata: dict[str, Any]) -> dict[str, Array]:
    """The example rows as the artifact's input tensors, [rows, *shape] each."""
    signature = metadata["signature"]
    frame = pd.DataFrame.from_records(read_example(folder, metadata))
    columns = {}
    for column in signature["inputs"]:
        if column["name"] not in frame.columns:
            raise ExampleRowsError(f"the example rows lack the column {column['name']!r}")
        columns[column["name"]] = _column(frame[column["name"]], column)
    try:
        return feeds(pd.DataFrame(columns), signature["tensors"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ExampleRowsError(f"the example rows do not fit the tensors: {exc}") from exc


def output_names(metadata: dict[str, Any]) -> list[str]:
    """The artifact's outputs the signature names (label, probabilities or value)."""
    outputs = metadata["signature"]["outputs"]
    return list(dict.fromkeys(name for name in outputs.values() if name))
