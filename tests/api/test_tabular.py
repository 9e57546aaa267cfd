"""Imported-style models served from their signature: text, integer and float columns with
gaps, a classifier and a regressor, through the native and TF Serving dialects, compared with
the scikit-learn originals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.helpers import make_client
from tests.tabular_models import (
    REGRESSOR_COLUMNS,
    TabularModels,
    churn_frame,
    records,
)

CHURN = "/v1/models/churn/predict"
SPEND = "/v1/models/spend/predict"


@pytest.fixture(scope="module")
def client(tabular_models: TabularModels) -> Iterator[TestClient]:
    with make_client(tabular_models.registry) as client:
        yield client


@pytest.fixture(scope="module")
def frame() -> Any:
    return churn_frame(40, seed=7)


def test_classifier_records_answer_what_the_original_predicts(
    client: TestClient, tabular_models: TabularModels, frame: Any
) -> None:
    response = client.post(CHURN, json={"instances": records(frame)})
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    expected = tabular_models.classifier.predict_proba(frame)
    assert [p["label"] for p in predictions] == list(tabular_models.classifier.predict(frame))
    got = np.array([[p["probabilities"]["no"], p["probabilities"]["yes"]] for p in predictions])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert [p["class_index"] for p in predictions] == expected.argmax(axis=1).tolist()


def test_rows_as_lists_in_signature_order_answer_the_same(client: TestClient, frame: Any) -> None:
    rows = records(frame)
    as_lists = [[row[k] for k in ("city", "plan", "age", "visits")] for row in rows]
    by_record = client.post(CHURN, json={"instances": rows}).json()["predictions"]
    by_list = client.post(CHURN, json={"instances": as_lists}).json()["predictions"]
    assert by_list == by_record


def test_regressor_answers_values_close_to_the_original(
    client: TestClient, tabular_models: TabularModels, frame: Any
) -> None:
    rows = [{k: row[k] for k in REGRESSOR_COLUMNS} for row in records(frame)]
    response = client.post(SPEND, json={"instances": rows})
    assert response.status_code == 200, response.text
    values = [p["value"] for p in response.json()["predictions"]]
    expected = tabular_models.regressor.predict(frame[REGRESSOR_COLUMNS])
    np.testing.assert_allclose(values, expected, rtol=1e-4, atol=1e-4)
    assert set(response.json()["predictions"][0]) == {"value"}


def test_tf_serving_takes_objects_by_column_and_columns(
    client: TestClient, tabular_models: TabularModels, frame: Any
) -> None:
    rows = records(frame)
    expected = tabular_models.classifier.predict_proba(frame)
    response = client.post("/v1/models/churn:predict", json={"instances": rows})
    assert response.status_code == 200, response.text
    np.testing.assert_allclose(response.json()["predictions"], expected, atol=1e-5)
    columns = {name: [row[name] for row in rows] for name in rows[0]}
    response = client.post("/v1/models/churn:predict", json={"inputs": columns})
    assert response.status_code == 200, response.text
    np.testing.assert_allclose(response.json()["outputs"], expected, atol=1e-5)
    spend = {name: columns[name] for name in REGRESSOR_COLUMNS}
    response = client.post("/v1/models/spend:predict", json={"inputs": spend})
    values = tabular_models.regressor.predict(frame[REGRESSOR_COLUMNS])
    np.testing.assert_allclose(response.json()["outputs"], values, rtol=1e-4, atol=1e-4)


ROW = {"city": "paris", "plan": "pro", "age": 40.5, "visits": 3}


def _error(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == "invalid_input"
    return error


@pytest.mark.parametrize(
    ("change", "column", "says"),
    [
        ({"visits": 2.5}, "visits", "expected an integer, got 2.5"),
        ({"age": "old"}, "age", "expected a number, got str"),
        ({"age": True}, "age", "expected a number, got bool"),
        ({"plan": 3}, "plan", "expected text, got int"),
        ({"plan": None}, "plan", "may not be missing"),
        ({"visits": None}, "visits", "may not be missing"),
        ({"age": 1e39}, "age", "outside the allowed range"),
        ({"colour": "red"}, "colour", "unknown feature 'colour'"),
    ],
)
def test_each_rule_answers_one_422_naming_row_and_column(
    client: TestClient, change: dict[str, Any], column: str, says: str
) -> None:
    bad = {**ROW, **change}
    error = _error(client.post(CHURN, json={"instances": [ROW, bad]}))
    assert error["message"].startswith(f"instances[1][{column}]: "), error
    assert says in error["message"]
    assert error["details"][0]["loc"] == ["instances", 1, column]


def test_a_missing_column_is_named(client: TestClient) -> None:
    row = {k: v for k, v in ROW.items() if k != "plan"}
    error = _error(client.post(CHURN, json={"instances": [row]}))
    assert error["message"] == "instances[0][plan]: missing feature 'plan'"


def test_widening_gaps_and_unseen_categories_are_accepted(client: TestClient) -> None:
    rows = [
        {**ROW, "age": 40},  # an integer into a float column
        {**ROW, "age": None, "city": None},  # optional: NaN, and the text's missing value
        {**ROW, "city": "tokyo"},  # never seen: the encoder decides
        {**ROW, "visits": 4.0},  # an integer written with a fraction of zero
    ]
    response = client.post(CHURN, json={"instances": rows})
    assert response.status_code == 200, response.text
    assert len(response.json()["predictions"]) == 4


def test_models_list_says_each_task(client: TestClient) -> None:
    models = {m["name"]: m for m in client.get("/v1/models").json()["models"]}
    assert models["churn"]["task"] == "classification" and models["spend"]["task"] == "regression"
    assert models["spend"]["metrics"] == {"mae": 0.5, "rmse": 0.7, "r2": 0.98}


def test_regressor_refuses_classifier_options(client: TestClient) -> None:
    row = {k: ROW[k] for k in REGRESSOR_COLUMNS}
    response = client.post(SPEND + "?top_k=1", json={"instances": [row]})
    assert response.status_code == 422 and "regressor" in response.json()["error"]["message"]


def test_the_opt_in_pickle_serves_the_pipeline_itself(
    tmp_path: Any, tabular_models: TabularModels, frame: Any
) -> None:
    """--keep-pickle: the scikit-learn pipeline, fed one column each (a DataFrame)."""
    import io

    import joblib

    from tests.tabular_models import CLASSIFIER_COLUMNS, signature, write_version

    buffer = io.BytesIO()
    joblib.dump(tabular_models.classifier, buffer)
    registry = tmp_path / "models"
    document = signature(CLASSIFIER_COLUMNS, "classification")
    rows = records(frame)
    write_version(registry, "churn", 1, buffer.getvalue(), document, rows[:3], None, "model.joblib")
    with make_client(registry, allow_pickle=True) as client:
        response = client.post(CHURN, json={"instances": rows})
    assert response.status_code == 200, response.text
    got = [p["probabilities"]["yes"] for p in response.json()["predictions"]]
    expected = tabular_models.classifier.predict_proba(frame)[:, 1]
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_a_classifier_with_only_a_label_output_answers_its_labels(
    tmp_path: Any, tabular_models: TabularModels, frame: Any
) -> None:
    from tests.tabular_models import CLASSIFIER_COLUMNS, signature, write_version

    document = signature(CLASSIFIER_COLUMNS, "classification")
    document["outputs"] = {"label": "label"}
    registry = tmp_path / "models"
    write_version(registry, "churn", 1, tabular_models.classifier_onnx, document, records(frame))
    with make_client(registry) as client:
        response = client.post(CHURN, json={"instances": records(frame)})
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    assert [p["label"] for p in predictions] == list(tabular_models.classifier.predict(frame))
    assert all(p["probabilities"][p["label"]] == 1.0 for p in predictions)
