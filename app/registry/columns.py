"""Rows or columns of a request -> the typed columns a signature names, every value checked:
one 422 naming the row and the column of the first faults (at most MAX_DETAILS of them).

The rules follow MLflow's schema enforcement: an integer into a float column is fine; a number
with a fraction into an integer column, text into a number column, anything but true/false into
a bool column are refused; null only where the column is optional (NaN for numbers, the
column's `missing_value` for text); categories never seen are passed on, the model's encoder
decides. Numbers going into a float32 tensor must fit float32.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import islice
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from app.errors import InvalidInputError, PayloadTooLargeError
from app.registry.signature import Column, Signature
from app.registry.tensors import Columns, MatrixColumns, column_dtype

MAX_DETAILS = 10
# Version 0 (no signature) bounded Iris-like features: far beyond any measurement, far below
# float overflow. Format 1 columns are bounded by the tensor they feed.
LEGACY_BOUND = 1e6
FLOAT32_MAX = float(np.finfo(np.float32).max)
# The bound of a float64 column: any finite number (an infinity compares within math.inf).
FLOAT64_MAX = float(np.finfo(np.float64).max)
INT64_BOUNDS = (-(2**63), 2**63 - 1)
NUMBER_TYPES = frozenset({int, float})  # exactly: bool is an int subclass, and not a number
NUMBER_OR_GAP = NUMBER_TYPES | {type(None)}
# Up to this many values, a check in Python beats numpy's reductions (about 1 us each).
SMALL_ARRAY = 64


class Faults:
    """The faults found, by row and column, reported in row order."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.found: list[tuple[int, str | None, str]] = []

    def add(self, row: int, column: str | None, message: str) -> None:
        self.found.append((row, column, message))

    def raise_any(self) -> None:
        if not self.found:
            return
        self.found.sort(key=lambda fault: fault[0])
        details = [
            {"loc": [self.where, row, *([column] if column is not None else [])], "message": text}
            for row, column, text in self.found[:MAX_DETAILS]
        ]
        row, column, text = self.found[0]
        place = f"{self.where}[{row}]" + (f"[{column}]" if column is not None else "")
        raise InvalidInputError(f"{place}: {text}", details)


def number_bound(signature: Signature, column: Column) -> float:
    """The largest magnitude a number of this column may have."""
    if signature.format_version == 0:
        return LEGACY_BOUND
    return FLOAT32_MAX if column.name in signature.float32_inputs else FLOAT64_MAX


def rows_bound(signature: Signature) -> float:
    """The largest magnitude of any number in a row of numbers side by side."""
    if signature.format_version == 0:
        return LEGACY_BOUND
    return FLOAT32_MAX if signature.float32_inputs else FLOAT64_MAX


def _value_error(value: Any, column: Column, bound: float) -> str | None:
    """Why a present (not null) value does not fit the column, or None."""
    kind = column.type
    if kind == "string":
        return None if type(value) is str else f"expected text, got {type(value).__name__}"
    if kind == "bool":
        return None if type(value) is bool else f"expected true or false, got {value!r:.40}"
    if type(value) not in NUMBER_TYPES:
        return f"expected a number, got {type(value).__name__}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"expected a finite number, got {value}"
    if kind == "int64":
        if isinstance(value, float) and not value.is_integer():
            return f"expected an integer, got {value}"
        low, high = INT64_BOUNDS
        return None if low <= value <= high else f"{value} is outside the int64 range"
    try:
        within = abs(float(value)) <= bound
    except OverflowError:
        within = False
    return None if within else f"{value} is outside the allowed range [{-bound:g}, {bound:g}]"


def _is_missing(value: Any) -> bool:
    return value is None or (type(value) is float and math.isnan(value))


def _fast_numbers(
    values: list[Any], bound: float, gaps: bool = False
) -> npt.NDArray[np.float64] | None:
    """The column as float64 when every value is a finite number within bound (or, with
    `gaps`, null or NaN: a gap, as NaN); else None, and the values are checked one by one."""
    types = set(map(type, values))
    if not types <= (NUMBER_OR_GAP if gaps else NUMBER_TYPES):
        return None
    try:
        array = np.array(values, dtype=np.float64)  # null -> NaN
    except OverflowError:
        return None
    magnitude = np.abs(array)
    if gaps:
        return array if bool((np.isnan(array) | (magnitude <= bound)).all()) else None
    return array if bool((magnitude <= bound).all()) else None  # NaN fails too


def _fast_integers(values: list[Any], gaps: bool) -> npt.NDArray[Any] | None:
    """An integer column of ints (and, with `gaps`, nulls: then float64 with NaN), in one
    call; None for anything else (fractions, words, values beyond int64)."""
    types = set(map(type, values))
    if types <= {int}:
        try:
            return np.array(values, dtype=np.int64)
        except OverflowError:
            return None
    if not gaps or not types <= {int, type(None)}:
        return None
    try:
        array = np.array(values, dtype=np.float64)
    except OverflowError:
        return None
    present = array[~np.isnan(array)]
    # float64 holds integers exactly up to 2**53: beyond, the exact checks by value decide.
    return array if bool((np.abs(present) <= 2.0**53).all()) else None


def _fast_text(values: list[Any], column: Column) -> npt.NDArray[Any] | None:
    """A text column of str (and, where it may be missing, nulls: its missing value)."""
    types = set(map(type, values))
    if types == {str}:
        return np.array(values, dtype=object)
    if not column.optional or not types <= {str, type(None)}:
        return None
    missing = column.missing_value if isinstance(column.missing_value, str) else ""
    return np.array([missing if value is None else value for value in values], dtype=object)


def read_column(
    values: list[Any], column: Column, bound: float, faults: Faults
) -> npt.NDArray[Any] | None:
    """One column's values (present ones checked, missing ones replaced) as its array."""
    kind = column.type
    fast = None
    if kind in ("float32", "float64"):
        fast = _fast_numbers(values, bound, column.optional)
    elif kind == "int64":
        fast = _fast_integers(values, column.optional)
    elif kind == "string":
        fast = _fast_text(values, column)
    if fast is not None:
        return fast
    cells: list[Any] = []
    missing = column.missing_value
    for row, value in enumerate(values):
        # null is a gap; so is NaN, in a number column that may have gaps.
        if value is None or (column.optional and kind != "string" and _is_missing(value)):
            if not column.optional:
                faults.add(row, column.name, f"'{column.name}' may not be missing")
            elif kind == "string":
                value = missing if isinstance(missing, str) else ""
            elif kind == "bool":
                faults.add(row, column.name, "a bool column cannot hold a missing value")
            else:
                value = math.nan
            cells.append(value)
            continue
        problem = _value_error(value, column, bound)
        if problem is not None:
            faults.add(row, column.name, problem)
        cells.append(value)
    if faults.found:
        return None
    has_gap = kind == "int64" and any(isinstance(v, float) and math.isnan(v) for v in cells)
    return np.array(cells, dtype=np.float64 if has_gap else column_dtype(column))


def _record(row: Any, signature: Signature, index: int, faults: Faults) -> list[Any] | None:
    """One row's values in signature order, or None (its faults added)."""
    names = signature.names
    if isinstance(row, dict):
        known = signature.name_set
        # A row may hold any number of keys: name a few, never sort or copy all of them.
        for key in islice((key for key in row if key not in known), MAX_DETAILS):
            faults.add(index, key, f"unknown feature '{key}'")
        for name in names:
            if name not in row:
                faults.add(index, name, f"missing feature '{name}'")
        return [row.get(name) for name in names]
    if isinstance(row, list):
        if len(row) != len(names):
            what = "numbers" if signature.all_numbers else "values"
            faults.add(
                index, None, f"expected {len(names)} {what} ({', '.join(names)}), got {len(row)}"
            )
            return None
        return row
    faults.add(
        index,
        None,
        f"expected a list of {len(names)} "
        f"{'numbers' if signature.all_numbers else 'values'} or an object keyed by feature name",
    )
    return None


def _number_rows(rows: list[Any], signature: Signature) -> npt.NDArray[np.float64] | None:
    """Lists of acceptable numbers as one [n, columns] array, checked with whole-array
    operations (Iris's one-row requests); None sends the rows through the checks by value."""
    width = len(signature.inputs)
    for row in rows:
        if type(row) is not list or len(row) != width or not set(map(type, row)) <= NUMBER_TYPES:
            return None
    try:
        matrix = np.array(rows, dtype=np.float64)
    except OverflowError:  # an integer beyond float range
        return None
    bound = rows_bound(signature)
    if matrix.size <= SMALL_ARRAY:
        within = all(-bound <= value <= bound for value in matrix.ravel().tolist())
    else:
        within = bool((np.abs(matrix) <= bound).all())  # NaN fails
    return matrix if within else None


def check_rows(count: int, max_rows: int) -> None:
    if count > max_rows:
        raise PayloadTooLargeError(f"{count} rows in one request; at most {max_rows} are accepted.")


def from_columns(
    data: Mapping[str, list[Any]], signature: Signature, where: str = "inputs"
) -> dict[str, npt.NDArray[Any]]:
    """Columns by name (lists of equal length) -> the typed columns, checked."""
    faults = Faults(where)
    for key in islice((key for key in data if key not in signature.name_set), MAX_DETAILS):
        faults.add(0, key, f"unknown feature '{key}'")
    for name in signature.names:
        if name not in data:
            faults.add(0, name, f"missing feature '{name}'")
    faults.raise_any()
    result: dict[str, npt.NDArray[Any]] = {}
    for column in signature.inputs:
        array = read_column(data[column.name], column, number_bound(signature, column), faults)
        if array is not None:
            result[column.name] = array
    faults.raise_any()
    return result


def _exact_records(rows: list[Any], names: list[str]) -> dict[str, list[Any]] | None:
    """Records holding exactly the signature's keys (the usual batch) as columns, pulled out
    in C; None for anything else, which the checks row by row then name."""
    width = len(names)
    if width < 2 or not all(type(row) is dict and len(row) == width for row in rows):
        return None
    try:  # as many keys as names: a missing name is a KeyError, so no key is unknown
        table = list(map(itemgetter(*names), rows))
    except KeyError:
        return None
    return dict(zip(names, map(list, zip(*table, strict=True)), strict=True))


def from_records(
    rows: list[Any], signature: Signature, max_rows: int, where: str = "instances"
) -> Columns:
    """Rows (objects by column, or lists in signature order) -> the typed columns, checked."""
    check_rows(len(rows), max_rows)
    if signature.all_numbers:
        matrix = _number_rows(rows, signature)
        if matrix is not None:
            return MatrixColumns(signature.names, matrix)
    by_name = _exact_records(rows, signature.names)
    if by_name is not None:
        return from_columns(by_name, signature, where)
    faults = Faults(where)
    table = []
    for index, row in enumerate(rows):
        values = _record(row, signature, index, faults)
        if values is not None:
            table.append(values)
        if len(faults.found) >= MAX_DETAILS:
            break
    faults.raise_any()
    by_column = [list(values) for values in zip(*table, strict=True)]
    return from_columns(dict(zip(signature.names, by_column, strict=True)), signature, where)
