"""Each server's own request form for the same rows, and how to read the labels it answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from bench.load import Request

JSON = "application/json"
CSV = "text/csv"
V2_DATATYPES = {"f": "FP64", "i": "INT64", "O": "BYTES"}


@dataclass(frozen=True)
class Dialect:
    """How one server is sent rows: a JSON batch, and the big body (CSV where it takes CSV)."""

    rows: Callable[[pd.DataFrame], Request]
    big: Callable[[pd.DataFrame], Request]
    big_form: str  # what the big body is, for the table
    labels: Callable[[bytes], list[str]]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON objects, a gap as null."""
    return [
        {name: _plain(value) for name, value in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def _plain(value: Any) -> Any:
    """A cell as JSON takes it: NaN -> None, numpy scalars -> Python numbers."""
    if isinstance(value, float) and value != value:
        return None
    return value.item() if hasattr(value, "item") else value


def _json(document: object) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def csv_body(frame: pd.DataFrame, path: str, headers: tuple[tuple[str, str], ...] = ()) -> Request:
    """A CSV body with a header row; a gap is an empty cell."""
    return Request(path, frame.to_csv(index=False).encode(), CSV, headers)


def native(model: str) -> Dialect:
    """Ours: {"instances": [...]} and text/csv, labels only (as the peers answer)."""
    path = f"/v1/models/{model}/predict?probabilities=false"
    return Dialect(
        rows=lambda frame: Request(path, _json({"instances": records(frame)}), JSON),
        big=lambda frame: csv_body(frame, path, (("Accept", CSV),)),
        big_form="CSV in and out",
        labels=lambda body: [p["label"] for p in json.loads(body)["predictions"]],
    )


def v2_pandas(frame: pd.DataFrame) -> dict[str, Any]:
    """MLServer's pandas codec: one V2 input per column, strings as BYTES decoded to str."""
    inputs = []
    for name in frame.columns:
        column = frame[name]
        tensor: dict[str, Any] = {
            "name": name,
            "shape": [len(frame)],
            "datatype": V2_DATATYPES[column.dtype.kind],
            "data": [_plain(value) for value in column.tolist()],
        }
        if column.dtype.kind == "O":
            tensor["parameters"] = {"content_type": "str"}
        inputs.append(tensor)
    return {"parameters": {"content_type": "pd"}, "inputs": inputs}


def mlserver(model: str) -> Dialect:
    """MLServer: V2 infer with the pandas codec, for every size (it takes no CSV)."""
    path = f"/v2/models/{model}/infer"

    def rows(frame: pd.DataFrame) -> Request:
        return Request(path, _json(v2_pandas(frame)), JSON)

    return Dialect(
        rows=rows,
        big=rows,
        big_form="V2 JSON, pandas codec (no CSV)",
        labels=lambda body: [str(label) for label in json.loads(body)["outputs"][0]["data"]],
    )


def mlflow() -> Dialect:
    """`mlflow models serve`: dataframe_split JSON and text/csv to /invocations."""
    path = "/invocations"

    def rows(frame: pd.DataFrame) -> Request:
        split = {"columns": list(frame.columns), "data": [list(r.values()) for r in records(frame)]}
        return Request(path, _json({"dataframe_split": split}), JSON)

    return Dialect(
        rows=rows,
        big=lambda frame: csv_body(frame, path),
        big_form="CSV in, JSON out",
        labels=lambda body: [str(label) for label in json.loads(body)["predictions"]],
    )


def disagreements(ours: list[str], theirs: list[str]) -> list[int]:
    """The rows whose labels differ; every row when the counts differ."""
    if len(ours) != len(theirs):
        return list(range(max(len(ours), len(theirs))))
    return [i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
