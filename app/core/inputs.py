"""Turn JSON rows into the batch array a model takes, naming the row and field of any fault."""

from __future__ import annotations

import math
from itertools import islice
from typing import Any

import numpy as np
import numpy.typing as npt

from app.errors import InvalidInputError, PayloadTooLargeError
from app.schemas import InputSpec

MAX_ABS_FEATURE = 1e6  # far beyond any Iris measurement (cm), far below float overflow
MAX_DETAILS = 10
NUMBER_TYPES = frozenset({int, float})  # exactly: bool is an int subclass, and not a number here


def _number_error(value: Any, low: float, high: float) -> str | None:
    """Why `value` is not an acceptable number, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"expected a number, got {type(value).__name__}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"expected a finite number, got {value}"
    if not low <= value <= high:
        return f"{value} is outside the allowed range [{low:g}, {high:g}]"
    return None


def _tabular_row(row: Any, spec: InputSpec, index: int, errors: list[dict[str, Any]]) -> list[Any]:
    names = [feature.name for feature in spec.features or []]
    if isinstance(row, dict):
        # A row may hold any number of keys: name a few, never sort or copy all of them.
        known = set(names)
        unknown = list(islice((key for key in row if key not in known), MAX_DETAILS))
        missing = [name for name in names if name not in row]
        for key in unknown:
            errors.append({"loc": ["instances", index, key], "message": f"unknown feature '{key}'"})
        for key in missing:
            errors.append({"loc": ["instances", index, key], "message": f"missing feature '{key}'"})
        if unknown or missing:
            return []
        return [(name, row[name]) for name in names]
    if isinstance(row, list):
        if len(row) != spec.n_features:
            errors.append(
                {
                    "loc": ["instances", index],
                    "message": f"expected {spec.n_features} numbers ({', '.join(names)}), "
                    f"got {len(row)}",
                }
            )
            return []
        return list(zip(names or range(len(row)), row, strict=True))
    errors.append(
        {
            "loc": ["instances", index],
            "message": f"expected a list of {spec.n_features} numbers "
            "or an object keyed by feature name",
        }
    )
    return []


def _image_row(row: Any, spec: InputSpec, index: int, errors: list[dict[str, Any]]) -> list[Any]:
    height, width = spec.shape or [spec.n_features, 1]
    if isinstance(row, list) and row and all(isinstance(line, list) for line in row):
        if len(row) != height or any(len(line) != width for line in row):
            errors.append(
                {
                    "loc": ["instances", index],
                    "message": f"expected {height} rows of {width} pixels",
                }
            )
            return []
        return [(i, value) for i, value in enumerate(v for line in row for v in line)]
    if isinstance(row, list) and len(row) == spec.n_features:
        return list(enumerate(row))
    size = len(row) if isinstance(row, list) else type(row).__name__
    errors.append(
        {
            "loc": ["instances", index],
            "message": f"expected {spec.n_features} pixel values or {height} rows of {width}, "
            f"got {size}",
        }
    )
    return []


def input_bounds(spec: InputSpec) -> tuple[float, float]:
    if spec.range:  # an image's pixels; a signature's numbers, bounded by the tensor they feed
        low, high = spec.range
        return low, high
    if spec.kind == "image":
        return 0, 255
    return -MAX_ABS_FEATURE, MAX_ABS_FEATURE


# Up to this many values, a check in Python beats numpy's reductions (about 1 us each).
SMALL_ARRAY = 64


def within_bounds(values: npt.NDArray[Any], low: float, high: float) -> bool:
    """Whether every value lies within [low, high]; NaN does not."""
    if values.size <= SMALL_ARRAY:
        return all(low <= value <= high for value in values.ravel().tolist())
    return float(values.min()) >= low and float(values.max()) <= high  # NaN fails both


def _valid_flat_rows(instances: list[Any], spec: InputSpec) -> npt.NDArray[np.float64] | None:
    """The batch when every row is a flat list of the right count of acceptable numbers, checked
    with whole-array operations; None sends the request through the row-by-row checks."""
    width = spec.n_features
    for row in instances:
        if type(row) is not list or len(row) != width or not set(map(type, row)) <= NUMBER_TYPES:
            return None
    try:
        batch = np.array(instances, dtype=np.float64)
    except (OverflowError, ValueError):  # an integer beyond float range
        return None
    # The bounds are finite: NaN fails both comparisons and an infinity one of them.
    if not within_bounds(batch, *input_bounds(spec)):
        return None
    return batch


def to_batch(instances: list[Any], spec: InputSpec, max_rows: int) -> npt.NDArray[np.float64]:
    """A (rows, n_features) float array, or InvalidInputError listing what is wrong where."""
    if len(instances) > max_rows:
        raise PayloadTooLargeError(
            f"{len(instances)} rows in one request; at most {max_rows} are accepted."
        )
    batch = _valid_flat_rows(instances, spec)
    if batch is not None:
        return batch
    low, high = input_bounds(spec)
    read_row = _image_row if spec.kind == "image" else _tabular_row
    errors: list[dict[str, Any]] = []
    rows = []
    for index, row in enumerate(instances):
        values = read_row(row, spec, index, errors)
        for field, value in values:
            problem = _number_error(value, low, high)
            if problem is not None:
                errors.append({"loc": ["instances", index, field], "message": problem})
                break  # one error per row is enough to fix it
        rows.append([value for _, value in values])
        if len(errors) >= MAX_DETAILS:
            break
    if errors:
        first = errors[0]
        where = "instances[" + "][".join(str(part) for part in first["loc"][1:]) + "]"
        raise InvalidInputError(f"{where}: {first['message']}", errors)
    return np.asarray(rows, dtype=np.float64)
