"""CSV in and out for the native dialect: a text/csv body with a header row, each cell read
with its column's type from the signature (an empty cell is a gap); predictions as CSV for
`Accept: text/csv` (batch scoring)."""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import numpy.typing as npt

from app.errors import BadRequestError, InvalidRequestError
from app.registry.columns import Faults, check_rows, number_bound, read_column
from app.registry.signature import Column, Signature
from app.registry.tensors import Columns

CSV_TYPE = (b"content-type", b"text/csv; charset=utf-8")
TRUE, FALSE = frozenset({"true", "True", "TRUE"}), frozenset({"false", "False", "FALSE"})


def _cell(text: str, kind: str) -> Any:
    """A cell as the JSON value it stands for: a gap (None), a number, true/false, or text
    (left as text when it is not what the column takes, so the column check names it)."""
    if text == "":
        return None
    if kind == "string":
        return text
    if kind == "bool":
        return True if text in TRUE else False if text in FALSE else text
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _gaps(values: list[str], column: Column) -> tuple[list[str], npt.NDArray[np.bool_] | None]:
    """The cells with each gap ("") as "0", and where the gaps were (None: no gap), when the
    column may have gaps; else the cells as they are (a gap is then found cell by cell)."""
    if not column.optional or "" not in values:
        return values, None
    gaps = np.array([text == "" for text in values])
    return [text or "0" for text in values], gaps


def _fast_numbers(values: list[str], column: Column, bound: float) -> npt.NDArray[Any] | None:
    """Cells that are all finite numbers within bound (or gaps, where the column may have
    them: NaN), converted by numpy in one call; None sends them cell by cell."""
    cells, gaps = _gaps(values, column)
    try:
        array = np.array(cells, dtype=np.float64)
    except (ValueError, OverflowError):
        return None  # a word, a number beyond range: cell by cell
    if not bool((np.abs(array) <= bound).all()):  # NaN or inf written out fails too
        return None
    if gaps is not None:
        array[gaps] = np.nan
    return array


def _fast_integers(values: list[str], column: Column) -> npt.NDArray[Any] | None:
    cells, gaps = _gaps(values, column)
    try:
        array = np.array(cells, dtype=np.int64)
    except (ValueError, OverflowError):
        return None  # a fraction, a word: cell by cell
    if gaps is None:
        return array
    if bool((np.abs(array) > 2**53).any()):  # beyond float64's exact integers
        return None
    with_gaps = array.astype(np.float64)
    with_gaps[gaps] = np.nan
    return with_gaps


def _column(values: list[str], column: Column, bound: float, faults: Faults) -> Any:
    fast = None
    if column.type in ("float32", "float64"):
        fast = _fast_numbers(values, column, bound)
    elif column.type == "int64":
        fast = _fast_integers(values, column)
    elif column.type == "string" and "" not in values:
        fast = np.array(values, dtype=object)
    elif column.type == "string" and column.optional:
        missing = column.missing_value if isinstance(column.missing_value, str) else ""
        fast = np.array([text or missing for text in values], dtype=object)
    if fast is not None:
        return fast
    return read_column([_cell(text, column.type) for text in values], column, bound, faults)


def _table(body: bytes) -> tuple[list[str], list[list[str]]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequestError("The CSV body is not valid UTF-8.") from exc
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except csv.Error as exc:
        raise InvalidRequestError(
            f"The CSV body cannot be read: {exc}.", [{"loc": ["body"], "message": str(exc)}]
        ) from exc
    if len(rows) < 2:
        raise InvalidRequestError(
            "body: a CSV body holds a header row of column names, then one or more rows.",
            [{"loc": ["body"], "message": "a header row and at least one row are required"}],
        )
    return rows[0], rows[1:]


def decode_csv(body: bytes, signature: Signature, max_rows: int) -> Columns:
    """A text/csv body with a header row -> the signature's columns, checked as JSON rows are;
    errors name the row (counted from 0 after the header) and the column."""
    if signature.is_image:
        raise InvalidRequestError("An image model takes no CSV: send images or JSON pixels.")
    header, rows = _table(body)
    check_rows(len(rows), max_rows)
    faults = Faults("csv")
    for name in header:
        if signature.column(name) is None:
            faults.add(0, name, f"unknown feature '{name}'")
    for name in signature.names:
        if name not in header:
            faults.add(0, name, f"missing feature '{name}'")
    if len(set(header)) != len(header):
        faults.add(0, None, "the header names a column twice")
    for index, row in enumerate(rows):
        if len(row) != len(header) and len(faults.found) < 10:
            faults.add(index, None, f"expected {len(header)} cells, got {len(row)}")
    faults.raise_any()
    result = {}
    by_name = dict(zip(header, zip(*rows, strict=True), strict=True))  # transposed in C
    for column in signature.inputs:
        values = list(by_name[column.name])
        array = _column(values, column, number_bound(signature, column), faults)
        if array is not None:
            result[column.name] = array
    faults.raise_any()
    return result


def _write(header: list[str], rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def classes_csv(
    labels: list[str], probabilities: npt.NDArray[np.float64], with_probabilities: bool
) -> bytes:
    """label, class_index and (unless turned off) probability_<label> per class, a row each."""
    winners = probabilities.argmax(axis=1).tolist()
    header = ["label", "class_index"]
    if not with_probabilities:
        return _write(header, [[labels[i], i] for i in winners])
    header += [f"probability_{label}" for label in labels]
    rounded = np.round(probabilities, 6).tolist()
    return _write(header, [[labels[i], i, *row] for i, row in zip(winners, rounded, strict=True)])


def values_csv(values: npt.NDArray[np.float64], targets: list[str] | None) -> bytes:
    """`value` a row, or one column per target when the model answers several."""
    width = values.shape[1]
    if width == 1:
        header = ["value"]
    elif targets and len(targets) == width:
        header = list(targets)
    else:
        header = [f"value_{index}" for index in range(width)]
    return _write(header, values.tolist())
