"""The native dialect's JSON request forms -> the columns of the version's signature.

Pure functions of bytes, importable without the model runtimes: large bodies are decoded in a
worker process (app/core/compute.py).
"""

from __future__ import annotations

from typing import Any

from app.core.columns import rows_to_columns
from app.errors import InvalidInputError, InvalidRequestError
from app.protocols.native_codec import echo, read_json, value_budget
from app.registry.columns import check_rows, from_columns
from app.registry.signature import Signature
from app.registry.tensors import Columns

# The JSON bodies a predict takes: rows (records or lists), columns (TF Serving's columnar
# form), and MLflow's two pandas forms, so MLflow users' requests work unchanged.
FORMS = ("instances", "inputs", "dataframe_split", "dataframe_records")


def _invalid(where: list[Any], message: str, hint: str) -> InvalidRequestError:
    path = ".".join(str(part) for part in where)
    return InvalidRequestError(f"{path}: {message}", [{"loc": where, "message": hint}])


def _columns(value: Any, signature: Signature, max_rows: int) -> Columns:
    """{"inputs": {"column": [values...], ...}}: lists of equal length."""
    if type(value) is not dict or not value or not all(type(v) is list for v in value.values()):
        raise _invalid(
            ["body", "inputs"],
            'inputs holds one list of values per column, like {"inputs": {"age": [40, 51]}}.',
            "an object of lists is required",
        )
    lengths = {len(values) for values in value.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise _invalid(
            ["body", "inputs"],
            "every column's list must hold the same number of values, one or more.",
            "lists of equal, non-zero length are required",
        )
    check_rows(lengths.pop(), max_rows)
    return from_columns(value, signature)


def _split(value: Any, signature: Signature, max_rows: int) -> Columns:
    """MLflow's {"dataframe_split": {"columns": [...], "data": [[...], ...]}} (index ignored)."""
    if type(value) is not dict or not set(value) <= {"columns", "data", "index"}:
        raise _invalid(
            ["body", "dataframe_split"],
            'dataframe_split is {"columns": [names], "data": [[row], ...]} (pandas "split").',
            "an object with columns and data is required",
        )
    names, data = value.get("columns"), value.get("data")
    if type(data) is not list or not data or not all(type(row) is list for row in data):
        raise _invalid(["body", "dataframe_split", "data"], "a list of rows is required.", "rows")
    if names is None:
        return rows_to_columns(data, signature, max_rows, "data")
    if type(names) is not list or not all(type(name) is str for name in names):
        where = ["body", "dataframe_split", "columns"]
        raise _invalid(where, "a list of column names is required.", "names")
    check_rows(len(data), max_rows)
    records = []
    for index, row in enumerate(data):
        if len(row) != len(names):
            raise InvalidInputError(
                f"data[{index}]: expected {len(names)} values, got {len(row)}",
                [{"loc": ["data", index], "message": f"expected {len(names)} values"}],
            )
        records.append(dict(zip(names, row, strict=True)))
    return rows_to_columns(records, signature, max_rows, "data")


def decode_instances(body: bytes, signature: Signature, max_rows: int) -> Columns:
    """A predict body -> the columns of the version's signature, checked: `instances` (rows:
    objects by column, or lists in signature order), `inputs` (columns), or MLflow's
    `dataframe_split` and `dataframe_records`."""
    document = read_json(body, value_budget(signature, max_rows))
    forms = [key for key in FORMS if key in document] if type(document) is dict else []
    if len(forms) != 1:
        raise InvalidRequestError(
            'body.instances: the body must be a JSON object like {"instances": [[...], ...]} '
            "with one or more rows (or one of inputs, dataframe_split, dataframe_records).",
            [{"loc": ["body", "instances"], "message": "a non-empty list of rows is required"}],
        )
    form = forms[0]
    if len(document) > 1:  # a misspelt option must not be silently ignored
        unknown = next(key for key in document if key != form)
        raise InvalidRequestError(
            f"body.{echo(unknown)}: unknown field; the body takes only '{form}' (options "
            "go in the query: ?top_k=3, ?probabilities=false).",
            [{"loc": ["body", unknown], "message": "unknown field"}],
        )
    value = document[form]
    if form == "inputs":
        return _columns(value, signature, max_rows)
    if form == "dataframe_split":
        return _split(value, signature, max_rows)
    if type(value) is not list or not value:
        raise InvalidRequestError(
            f'body.{form}: the body must be a JSON object like {{"{form}": [[...], ...]}} '
            "with one or more rows.",
            [{"loc": ["body", form], "message": "a non-empty list of rows is required"}],
        )
    return rows_to_columns(value, signature, max_rows, form)
