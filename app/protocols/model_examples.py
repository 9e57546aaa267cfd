"""The request examples of one version's OpenAPI document (app/protocols/model_openapi.py):
its stored example rows in every form the native predict takes."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from app.registry.signature import Signature
from app.registry.tensors import synthetic_columns

EXAMPLE_ROWS = 5  # of the stored example, in the request examples (one for an image model)


def example_records(signature: Signature, rows: list[Any] | None) -> list[Any]:
    """The example rows as the route takes them: records by column (a stored row may be a
    list in signature order), or an image model's pixels; made up from the signature when the
    version stores none."""
    if not rows:
        columns = synthetic_columns(signature, 1)
        rows = [{name: values[:1].tolist()[0] for name, values in columns.items()}]
    if signature.is_image:
        name = signature.inputs[0].name
        return [row.get(name) if isinstance(row, dict) else row for row in rows[:1]]
    records = [
        dict(zip(signature.names, row, strict=True)) if isinstance(row, list) else row
        for row in rows
    ]
    # NaN (a gap in made-up rows) is not JSON: a gap is null.
    return [
        {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
        for row in records[:EXAMPLE_ROWS]
    ]


def csv_example(names: list[str], records: list[dict[str, Any]]) -> str:
    """The rows as a text/csv body: a header row; a gap is an empty cell."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for row in records:
        cells = [row[name] for name in names]
        writer.writerow(
            ["" if v is None else str(v).lower() if isinstance(v, bool) else v for v in cells]
        )
    return buffer.getvalue()


def json_examples(signature: Signature, records: list[Any]) -> dict[str, Any]:
    """The named examples of the JSON body: the rows as records, as lists, as columns and in
    MLflow's two forms; an image model's pixels."""
    if signature.is_image:
        return {
            "pixels": {
                "summary": "The stored example's first image",
                "value": {"instances": records},
            }
        }
    names = signature.names
    lists = [[row[name] for name in names] for row in records]
    forms = {
        "records": ("The stored example: rows keyed by column", {"instances": records}),
        "lists": ("The same rows as lists, in signature order", {"instances": lists}),
        "columns": (
            "The same rows as columns",
            {"inputs": {name: [row[name] for row in records] for name in names}},
        ),
        "dataframe_split": (
            "MLflow's dataframe_split",
            {"dataframe_split": {"columns": names, "data": lists}},
        ),
        "dataframe_records": ("MLflow's dataframe_records", {"dataframe_records": records}),
    }
    return {key: {"summary": summary, "value": value} for key, (summary, value) in forms.items()}
