"""Each rule of a signature's column checks on its own (app/registry/columns.py)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from app.errors import InvalidInputError
from app.registry.columns import from_columns, from_records
from app.registry.signature import read_signature

SIGNATURE = read_signature(
    {
        "signature": {
            "format_version": 1,
            "task": "regression",
            "inputs": [
                {"name": "member", "type": "bool"},
                {"name": "score", "type": "float32", "optional": True},
                {"name": "wide", "type": "float64"},
                {"name": "count", "type": "int64", "optional": True},
                {"name": "town", "type": "string", "optional": True, "missing_value": "?"},
            ],
            "tensors": [
                {"name": "flags", "type": "bool", "columns": ["member"], "shape": [1]},
                {"name": "numbers", "type": "float32", "columns": ["score"], "shape": [1]},
                {"name": "wide", "type": "float64", "columns": ["wide", "count"], "shape": [2]},
                {"name": "town", "type": "string", "columns": ["town"], "shape": [1]},
            ],
            "outputs": {"value": "value"},
        }
    }
)
ROW = {"member": True, "score": 1.5, "wide": 1e300, "count": 3, "town": "paris"}


def _refused(change: dict[str, Any]) -> str:
    with pytest.raises(InvalidInputError) as caught:
        from_records([ROW, {**ROW, **change}], SIGNATURE, max_rows=10)
    return str(caught.value)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"member": 1}, "instances[1][member]: expected true or false, got 1"),
        ({"member": "true"}, "instances[1][member]: expected true or false, got 'true'"),
        ({"member": None}, "instances[1][member]: 'member' may not be missing"),
        ({"score": 1e39}, "instances[1][score]: 1e+39 is outside the allowed range"),
        ({"score": math.inf}, "instances[1][score]: expected a finite number, got inf"),
        ({"wide": None}, "instances[1][wide]: 'wide' may not be missing"),
        ({"wide": math.nan}, "instances[1][wide]: expected a finite number, got nan"),
        ({"count": 2**63}, "instances[1][count]: 9223372036854775808 is outside the int64 range"),
        ({"count": 1.5}, "instances[1][count]: expected an integer, got 1.5"),
        ({"town": 7}, "instances[1][town]: expected text, got int"),
    ],
)
def test_each_rule_refuses_with_row_and_column(change: dict[str, Any], says: str) -> None:
    assert _refused(change).startswith(says)


def test_gaps_become_nan_or_the_missing_value() -> None:
    columns = from_records(
        [{**ROW, "score": None, "count": None, "town": None}, ROW], SIGNATURE, max_rows=10
    )
    assert math.isnan(columns["score"][0]) and math.isnan(columns["count"][0])
    assert columns["town"].tolist() == ["?", "paris"]
    assert columns["member"].dtype == np.bool_ and columns["wide"][0] == 1e300


def test_float64_columns_take_what_float32_ones_refuse() -> None:
    columns = from_records([ROW], SIGNATURE, max_rows=10)
    assert columns["wide"][0] == 1e300 and columns["count"].dtype == np.int64


def test_columns_form_names_unknown_and_missing_columns() -> None:
    data = {name: [value] for name, value in ROW.items() if name != "town"}
    with pytest.raises(InvalidInputError, match=r"inputs\[0\]\[town\]: missing feature 'town'"):
        from_columns(data, SIGNATURE)
    with pytest.raises(InvalidInputError, match=r"inputs\[0\]\[x\]: unknown feature 'x'"):
        from_columns({**data, "town": ["a"], "x": [1]}, SIGNATURE)
