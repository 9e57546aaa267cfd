"""The Open Inference Protocol for imported-style models: one tensor per column (text as BYTES,
gaps as null), a regressor's value, metadata and Triton's model configuration from the
signature, and a 400 naming the column for each rule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.errors import InvalidRequestError
from app.protocols.v2_request import decode_infer
from app.registry.signature import read_signature
from tests.helpers import make_client
from tests.tabular_models import (
    CLASSIFIER_COLUMNS,
    REGRESSOR_COLUMNS,
    TabularModels,
    churn_frame,
    records,
)

TYPES = {"city": "BYTES", "plan": "BYTES", "age": "FP32", "visits": "INT64"}
TRITON = {"BYTES": "TYPE_STRING", "FP32": "TYPE_FP32", "FP64": "TYPE_FP64", "INT64": "TYPE_INT64"}


@pytest.fixture(scope="module")
def client(tabular_models: TabularModels) -> Iterator[TestClient]:
    with make_client(tabular_models.registry) as client:
        yield client


@pytest.fixture(scope="module")
def frame() -> Any:
    return churn_frame(30, seed=11)


def by_column(rows: list[dict[str, Any]], names: list[str], shape_1: bool = True) -> list[Any]:
    """One JSON tensor per column, [n, 1] (or [n]), gaps as null."""
    tensors = []
    for name in names:
        shape = [len(rows), 1] if shape_1 else [len(rows)]
        data = [row[name] for row in rows]
        tensors.append({"name": name, "shape": shape, "datatype": TYPES[name], "data": data})
    return tensors


def infer(client: TestClient, model: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/v2/models/{model}/infer", json=body)
    assert response.status_code == 200, response.text
    return {output["name"]: output for output in response.json()["outputs"]}


def test_metadata_and_config_describe_one_tensor_per_column(client: TestClient) -> None:
    metadata = client.get("/v2/models/churn").json()
    assert metadata["inputs"] == [
        {"name": name, "datatype": TYPES[name], "shape": [-1, 1]} for name in CLASSIFIER_COLUMNS
    ]
    assert [o["name"] for o in metadata["outputs"]] == ["label", "class_index", "probabilities"]
    assert metadata["parameters"]["task"] == "classification"
    for path in ("/v2/models/churn/config", "/v2/models/churn/versions/1/config"):
        config = client.get(path).json()
        assert config["name"] == "churn" and config["max_batch_size"] >= 1
        assert config["platform"] == metadata["platform"] == "onnxruntime_onnx"
        for described, tensor in zip(metadata["inputs"], config["input"], strict=True):
            assert tensor["name"] == described["name"]
            assert tensor["data_type"] == TRITON[described["datatype"]]
            assert tensor["dims"] == described["shape"][1:]
        assert [t["dims"] for t in config["output"]] == [[1], [1], [2]]
    spend = client.get("/v2/models/spend").json()
    assert spend["outputs"] == [{"name": "value", "datatype": "FP64", "shape": [-1]}]
    assert "class_labels" not in spend["parameters"]
    assert client.get("/v2/models/spend/config").json()["output"] == [
        {"name": "value", "data_type": "TYPE_FP64", "dims": [1], "reshape": {"shape": []}}
    ]
    assert client.get("/v2/models/nope/config").status_code == 404


def test_classifier_by_column_answers_what_the_original_predicts(
    client: TestClient, tabular_models: TabularModels, frame: Any
) -> None:
    rows = records(frame)
    assert any(row["age"] is None for row in rows)  # gaps go through as null
    for shape_1 in (True, False):
        outputs = infer(client, "churn", {"inputs": by_column(rows, CLASSIFIER_COLUMNS, shape_1)})
        expected = tabular_models.classifier.predict_proba(frame)
        got = np.array(outputs["probabilities"]["data"]).reshape(-1, 2)
        np.testing.assert_allclose(got, expected, atol=1e-5)
        assert outputs["label"]["data"] == list(tabular_models.classifier.predict(frame))
        assert outputs["class_index"]["data"] == expected.argmax(axis=1).tolist()


def test_regressor_answers_its_value(
    client: TestClient, tabular_models: TabularModels, frame: Any
) -> None:
    rows = records(frame)
    outputs = infer(client, "spend", {"inputs": by_column(rows, REGRESSOR_COLUMNS)})
    assert set(outputs) == {"value"}
    assert outputs["value"]["datatype"] == "FP64" and outputs["value"]["shape"] == [len(rows)]
    expected = tabular_models.regressor.predict(frame[REGRESSOR_COLUMNS])
    np.testing.assert_allclose(outputs["value"]["data"], expected, rtol=1e-4, atol=1e-4)
    spend_rows = [{name: row[name] for name in REGRESSOR_COLUMNS} for row in rows]
    native = client.post("/v1/models/spend/predict", json={"instances": spend_rows}).json()
    assert [p["value"] for p in native["predictions"]] == outputs["value"]["data"]
    asked = {"inputs": by_column(rows, REGRESSOR_COLUMNS), "outputs": [{"name": "label"}]}
    response = client.post("/v2/models/spend/infer", json=asked)
    assert response.status_code == 400 and "the outputs are value" in response.json()["error"]


def test_tensors_in_any_order_answer_the_same(client: TestClient) -> None:
    rows = [{"city": "paris", "plan": "pro", "age": 30.0, "visits": 3}]
    one = infer(client, "churn", {"inputs": by_column(rows, CLASSIFIER_COLUMNS)})
    reordered = by_column(rows, list(reversed(CLASSIFIER_COLUMNS)))
    assert infer(client, "churn", {"inputs": reordered}) == one


def test_columns_sharing_a_type_may_come_as_one_tensor_named_input() -> None:
    columns = [{"name": n, "type": "float64", "optional": True} for n in ("a", "b")]
    signature = read_signature(
        {
            "signature": {
                "format_version": 1,
                "task": "regression",
                "inputs": columns,
                "tensors": [{"name": "X", "type": "float64", "columns": ["a", "b"]}],
                "outputs": {"value": "variable"},
            }
        }
    )
    body = {"inputs": [{"name": "input", "shape": [2, 2], "datatype": "FP64"}]}
    body["inputs"][0]["data"] = [[1.5, None], [3, 4]]
    request = decode_infer(json.dumps(body).encode(), None, signature, max_rows=10)
    assert request.columns is not None
    np.testing.assert_array_equal(request.columns["a"], [1.5, 3.0])
    np.testing.assert_array_equal(request.columns["b"], [np.nan, 4.0])
    body["inputs"][0]["datatype"] = "BYTES"
    with pytest.raises(InvalidRequestError, match="'a' is float64: send"):
        decode_infer(json.dumps(body).encode(), None, signature, max_rows=10)


def _error(client: TestClient, body: Any) -> str:
    response = client.post("/v2/models/churn/infer", json=body)
    assert response.status_code == 400, response.text
    message: str = response.json()["error"]
    return message


ROW = {"city": "paris", "plan": "pro", "age": 30.5, "visits": 3}


def _with(name: str, **changes: Any) -> dict[str, Any]:
    tensors = by_column([ROW], CLASSIFIER_COLUMNS)
    for tensor in tensors:
        if tensor["name"] == name:
            tensor.update(changes)
    return {"inputs": tensors}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            {"inputs": by_column([ROW], CLASSIFIER_COLUMNS[:3])},
            "no tensor for the column(s) visits",
        ),
        (
            {
                "inputs": [
                    *by_column([ROW], CLASSIFIER_COLUMNS[:3]),
                    {**by_column([ROW], ["city"])[0], "name": "town"},
                ]
            },
            "('town'): no column named so",
        ),
        (_with("city", datatype="FP32", data=[1.0]), "'city' is string: send BYTES, not FP32"),
        (_with("visits", data=[2.5]), "INT64 data holds float"),
        (_with("visits", datatype="FP64", data=[2.5]), "'visits' is int64: send"),
        (_with("plan", data=[None]), "inputs[0][plan]: 'plan' may not be missing"),
        (_with("age", shape=[2, 1], data=[1.0, 2.0]), "a column takes [1] or [1, 1]"),
        (_with("age", data=[1.0, 2.0]), "holds 2 values; its shape says 1"),
        (_with("age", data=["old"]), "FP32 data holds str"),
        (_with("age", data=[1e39]), "outside the allowed range"),
        (_with("city", datatype="BOOL", data=[True]), "send BYTES, not BOOL"),
        ({"inputs": by_column([ROW], CLASSIFIER_COLUMNS) * 2}, "list of 1 to 4 tensors"),
    ],
)
def test_each_rule_is_a_400_naming_the_column(client: TestClient, body: Any, says: str) -> None:
    message = _error(client, body)
    assert says in message, message


def test_mlserver_clients_content_types_are_taken(
    client: TestClient, tabular_models: TabularModels, frame: Any
) -> None:
    """MLServer's clients name their codecs ("pd", "str", "np"): the signature decides types."""
    rows = records(frame)
    tensors = by_column(rows, CLASSIFIER_COLUMNS)
    for tensor in tensors:
        tensor["parameters"] = {"content_type": "str" if tensor["datatype"] == "BYTES" else "np"}
    body = {"parameters": {"content_type": "pd"}, "inputs": tensors}
    outputs = infer(client, "churn", body)
    expected = tabular_models.classifier.predict_proba(frame)
    np.testing.assert_allclose(
        np.reshape(outputs["probabilities"]["data"], (-1, 2)), expected, atol=1e-5
    )
    body["parameters"] = {"content_type": 7}
    assert "parameters.content_type must be a string" in _error(client, body)
