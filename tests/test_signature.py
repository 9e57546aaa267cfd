"""The signature in metadata.json as the server reads it, and the one derived for older versions."""

from __future__ import annotations

from typing import Any

import pytest

from app.registry.signature import SignatureError, read_signature

IRIS_V0 = {
    "input": {
        "kind": "tabular",
        "n_features": 2,
        "features": [{"name": "sepal_length", "unit": "cm"}, {"name": "sepal_width"}],
    },
    "class_labels": ["a", "b"],
}


def _regressor(**changes: Any) -> dict[str, Any]:
    signature = {
        "format_version": 1,
        "task": "regression",
        "inputs": [{"name": "age", "type": "float64"}, {"name": "city", "type": "string"}],
        "tensors": [
            {"name": "age", "type": "float64", "columns": ["age"], "shape": [1]},
            {"name": "city", "type": "string", "columns": ["city"], "shape": [1]},
        ],
        "outputs": {"value": "variable"},
        "targets": ["price"],
    }
    return {"signature": {**signature, **changes}}


def test_version_without_signature_reads_as_format_0_classifier() -> None:
    signature = read_signature(IRIS_V0)
    assert signature.format_version == 0
    assert [c.name for c in signature.inputs] == ["sepal_length", "sepal_width"]
    assert signature.inputs[0].unit == "cm"
    assert signature.tensors[0].columns == ["sepal_length", "sepal_width"]
    assert signature.classes is not None and signature.classes.labels == ["a", "b"]


def test_image_version_without_signature_has_one_image_input() -> None:
    metadata = {
        "input": {"kind": "image", "n_features": 784, "shape": [28, 28], "range": [0, 255]},
        "class_labels": [str(d) for d in range(10)],
    }
    signature = read_signature(metadata)
    assert signature.is_image
    assert signature.inputs[0].shape == [28, 28]
    assert signature.tensors[0].shape == [784]


def test_regressor_signature_reads() -> None:
    signature = read_signature(_regressor())
    assert signature.task == "regression"
    assert signature.outputs.value == "variable"
    column = signature.column("city")
    assert column is not None and column.type == "string"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"format_version": 2}, "format version 2"),
        ({"outputs": {}}, "needs a value output"),
        ({"tensors": [{"name": "t", "type": "float32", "columns": ["age"]}]}, "exactly once"),
        ({"inputs": [{"name": "age", "type": "complex"}]}, "inputs.0.type"),
        ({"task": "classification", "classes": {"labels": ["x"]}}, "two class labels"),
    ],
)
def test_signature_the_server_cannot_serve_is_refused_saying_why(
    changes: dict[str, Any], reason: str
) -> None:
    with pytest.raises(SignatureError, match=reason):
        read_signature(_regressor(**changes))
