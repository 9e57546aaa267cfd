"""Drift against the training data, on the churn classifier served for real (issue 26)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import make_client
from tests.tabular_models import TabularModels, churn_frame, records, with_drift_references


@pytest.fixture(scope="module")
def drift_registry(tabular_models: TabularModels, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return with_drift_references(tabular_models, tmp_path_factory.mktemp("drift") / "models")


def send(client: Any, rows: list[dict[str, Any]], batch: int = 100) -> None:
    for start in range(0, len(rows), batch):
        body = {"instances": rows[start : start + batch]}
        response = client.post("/v1/models/churn/predict", json=body)
        assert response.status_code == 200, response.text


def psi_of(report: dict[str, Any]) -> dict[str, float]:
    return {feature["name"]: feature["psi"] for feature in report["features"]}


def test_in_distribution_rows_keep_every_psi_small(drift_registry: Path) -> None:
    with make_client(drift_registry) as client:
        send(client, records(churn_frame(1000, seed=11)))
        report = client.get("/v1/models/churn/drift").json()
        assert report["rows"] == 1000 and report["enough_rows"]
        assert all(psi < 0.1 for psi in psi_of(report).values()), psi_of(report)
        assert report["prediction"]["psi"] < 0.1
        metrics = client.get("/metrics").text
    for name, psi in psi_of(report).items():
        line = f'serving_drift_psi{{feature="{name}",model="churn",version="1"}} '
        found = re.search(re.escape(line) + r"(\S+)", metrics)
        assert found and float(found.group(1)) == pytest.approx(psi), name
    assert 'serving_prediction_drift_psi{model="churn",version="1"}' in metrics


def test_a_shifted_column_drifts_alone(drift_registry: Path) -> None:
    frame = churn_frame(1000, seed=12)
    frame["age"] = frame["age"] + 2 * frame["age"].std()
    frame.loc[:99, "city"] = "tokyo"
    with make_client(drift_registry, drift_window=1000) as client:
        send(client, records(frame))
        report = client.get("/v1/models/churn/versions/1/drift").json()
    psi = psi_of(report)
    assert psi["age"] > 0.25, psi
    assert psi["plan"] < 0.1 and psi["visits"] < 0.1, psi
    city = next(f for f in report["features"] if f["name"] == "city")
    current = dict(zip(city["current"]["bins"], city["current"]["fractions"], strict=True))
    assert current["unseen"] == pytest.approx(0.1)
    age = next(f for f in report["features"] if f["name"] == "age")
    assert len(age["edges"]) == 9 and len(age["reference"]["fractions"]) == 11
    assert age["reference"]["bins"][-1] == "missing"


def test_an_empty_window_answers_nulls(drift_registry: Path) -> None:
    with make_client(drift_registry) as client:
        send(client, records(churn_frame(5, seed=13)))
        report = client.get("/v1/models/churn/drift").json()
        empty = client.get("/v1/models/spend/drift")
        assert client.get("/metrics").status_code == 200
        assert client.get("/v1/models/nope/drift").status_code == 404
    assert report["rows"] == 5 and report["min_rows"] == 100 and not report["enough_rows"]
    assert set(psi_of(report).values()) == {None}
    assert report["prediction"]["psi"] is None
    assert empty.status_code == 200 and empty.json()["rows"] == 0
    # spend's signature records only min/max for numbers: no reference, no PSI, no error.
    assert all(f["psi"] is None for f in empty.json()["features"])


def test_the_window_keeps_the_latest_rows(drift_registry: Path) -> None:
    odd = [{"city": None, "plan": "gold", "age": None, "visits": 3}] * 150
    with make_client(drift_registry, drift_window=100) as client:
        send(client, records(churn_frame(130, seed=14)))
        send(client, odd, batch=150)  # more rows than the window holds, in one batch
        report = client.get("/v1/models/churn/drift").json()
    assert report["rows"] == 100
    features = {f["name"]: f for f in report["features"]}
    plan = dict(zip(*features["plan"]["current"].values(), strict=True))
    assert plan["unseen"] == 1.0
    assert dict(zip(*features["age"]["current"].values(), strict=True))["missing"] == 1.0
    assert features["plan"]["psi"] > 0.25
