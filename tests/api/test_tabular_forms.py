"""The native dialect's request forms for a signature: rows as records or lists, columns,
MLflow's dataframe_split and dataframe_records, text/csv bodies; CSV answers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.helpers import IRIS_ROW, make_client
from tests.tabular_models import REGRESSOR_COLUMNS, TabularModels, churn_frame, records

CHURN = "/v1/models/churn/predict"
SPEND = "/v1/models/spend/predict"
NAMES = ["city", "plan", "age", "visits"]
CSV_BODY = {"content-type": "text/csv"}


@pytest.fixture(scope="module")
def client(tabular_models: TabularModels) -> Iterator[TestClient]:
    with make_client(tabular_models.registry) as client:
        yield client


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return records(churn_frame(25, seed=3))


def _csv(rows: list[dict[str, Any]], names: list[str]) -> str:
    lines = [",".join(names)]
    for row in rows:
        lines.append(",".join("" if row[n] is None else str(row[n]) for n in names))
    return "\n".join(lines) + "\n"


def _predictions(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    predictions: list[dict[str, Any]] = response.json()["predictions"]
    return predictions


def test_every_form_answers_as_instances_do(
    client: TestClient, rows: list[dict[str, Any]], tabular_models: TabularModels
) -> None:
    expected = _predictions(client.post(CHURN, json={"instances": rows}))
    columns = {name: [row[name] for row in rows] for name in NAMES}
    split = {"columns": NAMES, "data": [[row[n] for n in NAMES] for row in rows]}
    bodies = [
        {"inputs": columns},
        {"dataframe_records": rows},
        {"dataframe_split": split},
        {"dataframe_split": {**split, "index": list(range(len(rows)))}},
    ]
    for body in bodies:
        assert _predictions(client.post(CHURN, json=body)) == expected, list(body)
    as_csv = client.post(CHURN, content=_csv(rows, NAMES), headers=CSV_BODY)
    got = [p["probabilities"]["yes"] for p in _predictions(as_csv)]
    np.testing.assert_allclose(got, [p["probabilities"]["yes"] for p in expected], atol=1e-6)


def test_csv_columns_may_come_in_any_order(client: TestClient, rows: list[dict[str, Any]]) -> None:
    expected = _predictions(client.post(CHURN, json={"instances": rows}))
    shuffled = ["visits", "age", "city", "plan"]
    got = _predictions(client.post(CHURN, content=_csv(rows, shuffled), headers=CSV_BODY))
    assert [p["label"] for p in got] == [p["label"] for p in expected]


def test_accept_text_csv_answers_csv(client: TestClient, rows: list[dict[str, Any]]) -> None:
    response = client.post(CHURN, json={"instances": rows}, headers={"accept": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.text)))
    expected = _predictions(client.post(CHURN, json={"instances": rows}))
    assert [row["label"] for row in table] == [p["label"] for p in expected]
    assert list(table[0]) == ["label", "class_index", "probability_no", "probability_yes"]
    body = _csv([{k: r[k] for k in REGRESSOR_COLUMNS} for r in rows], REGRESSOR_COLUMNS)
    response = client.post(SPEND, content=body, headers={**CSV_BODY, "accept": "text/csv"})
    values = [float(row["value"]) for row in csv.DictReader(io.StringIO(response.text))]
    as_json = [p["value"] for p in _predictions(client.post(SPEND, content=body, headers=CSV_BODY))]
    np.testing.assert_allclose(values, as_json)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("city,plan,age,visits\nparis,pro,forty,3\n", "csv[0][age]"),
        ("city,plan,age,visits\nparis,pro,40,3\nlyon,basic,40,2.5\n", "csv[1][visits]"),
        ("city,plan,age\nparis,pro,40\n", "csv[0][visits]"),
        ("city,plan,age,visits,colour\nparis,pro,40,3,red\n", "csv[0][colour]"),
        ("city,plan,age,visits\nparis,,40,3\n", "csv[0][plan]"),
        ("city,plan,age,visits\nparis,pro,40\n", "csv[0]"),
        ("city,plan,age,visits\n", "body"),
    ],
)
def test_bad_csv_is_a_422_naming_row_and_column(client: TestClient, body: str, where: str) -> None:
    response = client.post(CHURN, content=body, headers=CSV_BODY)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"].startswith(where), response.json()


def test_empty_cells_are_gaps_where_columns_may_be_missing(client: TestClient) -> None:
    body = "city,plan,age,visits\n,pro,,3\n"
    assert len(_predictions(client.post(CHURN, content=body, headers=CSV_BODY))) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"inputs": {"city": ["paris"], "plan": ["pro", "basic"], "age": [1], "visits": [1]}},
        {"inputs": [[1, 2]]},
        {"dataframe_split": {"columns": NAMES, "data": [["paris", "pro", 40]]}},
        {"dataframe_split": {"data": "x"}},
        {"dataframe_records": []},
        {"instances": [{}], "inputs": {}},
    ],
)
def test_malformed_forms_are_422(client: TestClient, body: dict[str, Any]) -> None:
    response = client.post(CHURN, json=body)
    assert response.status_code == 422, response.text


def test_iris_takes_the_new_forms_too(client: TestClient, quick_registry: Any) -> None:
    with make_client(quick_registry) as iris:
        path = "/v1/models/iris-logistic-regression/predict"
        expected = _predictions(iris.post(path, json={"instances": [IRIS_ROW]}))
        names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
        split = {"dataframe_split": {"columns": names, "data": [IRIS_ROW]}}
        assert _predictions(iris.post(path, json=split)) == expected
        body = ",".join(names) + "\n" + ",".join(map(str, IRIS_ROW)) + "\n"
        assert _predictions(iris.post(path, content=body, headers=CSV_BODY)) == expected
