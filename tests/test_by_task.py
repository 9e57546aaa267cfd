"""Metrics, shadow comparisons and model cards by task: regressors' values as a histogram,
shadow regressors compared by absolute and relative difference, cards of imported versions."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import Ridge

from tests.helpers import make_client
from tests.tabular_models import (
    REGRESSOR_COLUMNS,
    TabularModels,
    build,
    churn_frame,
    export,
    fit_regressor,
    records,
    signature,
    write_version,
)
from training import labels

ROWS = [{k: row[k] for k in REGRESSOR_COLUMNS} for row in records(churn_frame(10, seed=5))]


def test_regressor_values_are_a_histogram_per_model_and_version(
    tabular_models: TabularModels,
) -> None:
    with make_client(tabular_models.registry) as client:
        response = client.post("/v1/models/spend/predict", json={"instances": ROWS})
        values = [p["value"] for p in response.json()["predictions"]]
        text = client.get("/metrics").text
    count = f'serving_predicted_values_count{{model="spend",version="1"}} {float(len(ROWS))}'
    assert count in text, [line for line in text.splitlines() if "predicted_values" in line][:5]
    # Values may be negative, so the histogram has no _sum (OpenMetrics): buckets say it.
    line = next(
        line
        for line in text.splitlines()
        if line.startswith('serving_predicted_values_bucket{le="100.0",model="spend"')
    )
    assert float(line.split()[-1]) == float((np.array(values) <= 100).sum())


def test_a_large_batch_counts_every_value_in_its_bucket(tabular_models: TabularModels) -> None:
    rows = ROWS * 20  # past the batch size observed value by value
    with make_client(tabular_models.registry) as client:
        response = client.post("/v1/models/spend/predict", json={"instances": rows})
        values = np.array([p["value"] for p in response.json()["predictions"]])
        text = client.get("/metrics").text
    line = next(
        line
        for line in text.splitlines()
        if line.startswith('serving_predicted_values_bucket{le="100.0",model="spend"')
    )
    assert float(line.split()[-1]) == float((values <= 100).sum())


def test_shadow_regressors_are_compared_by_absolute_and_relative_difference(
    tmp_path: Path,
) -> None:
    models = build(tmp_path / "models")
    frame = churn_frame(300)
    other = fit_regressor(frame)
    other.set_params(model=Ridge(alpha=50.0)).fit(frame[REGRESSOR_COLUMNS], frame["visits"] * 3.0)
    write_version(
        models.registry,
        "spend",
        2,
        export(other, REGRESSOR_COLUMNS),
        signature(REGRESSOR_COLUMNS, "regression", example=None),
    )
    target = {"version": 1, "shadow": {"version": 2, "fraction": 1.0}}
    labels.change(models.registry / "spend", "production", target, "test")
    with make_client(models.registry) as client:
        for _ in range(3):
            response = client.post("/v1/models/spend/predict", json={"instances": ROWS})
            assert response.headers["x-model-version"] == "1"
        deadline = time.monotonic() + 10
        while True:
            compared = client.get("/v1/models/spend").json()["shadow"]
            if compared and compared[0]["rows_compared"] >= 30:
                break
            assert time.monotonic() < deadline, "the shadow never scored the rows"
            time.sleep(0.02)
        [shadow] = compared
        text = client.get("/metrics").text
    assert shadow["mean_abs_value_diff"] > 0 and shadow["mean_rel_value_diff"] > 0
    assert "agreement" not in shadow and shadow["failed"] == 0
    assert 'serving_shadow_value_diff_total{kind="rel",model="spend"' in text


def test_cards_of_imported_versions_show_their_eval_metrics(tabular_models: TabularModels) -> None:
    with make_client(tabular_models.registry) as client:
        card = client.get(
            "/v1/models/spend/versions/1/card", headers={"accept": "application/json"}
        ).json()
        markdown = client.get("/v1/models/spend/versions/1/card").text
        classifier = client.get("/v1/models/churn/versions/1/card").text
    assert card["metrics"] == {"mae": 0.5, "rmse": 0.7, "r2": 0.98, "eval_rows": 100}
    assert card["data"]["task"] == "regression" and card["data"]["targets"] == ["spend"]
    assert "MAE 0.5, RMSE 0.7, R² 0.98" in markdown
    assert "No training run" in markdown
    assert "Predicts spend" in markdown
    assert "Accuracy 0.9, macro F1 0.89" in classifier
    assert "city (string, may be missing)" in classifier


def test_several_outputs_answer_a_list_of_values() -> None:
    import orjson

    from app.protocols.csv_codec import values_csv
    from app.protocols.native_codec import value_body

    values = np.array([[1.5, 2.0], [3.0, 4.25]])
    body = orjson.loads(value_body("m", 1, values))
    assert body["predictions"] == [{"value": [1.5, 2.0]}, {"value": [3.0, 4.25]}]
    assert values_csv(values, ["low", "high"]) == b"low,high\n1.5,2.0\n3.0,4.25\n"
    assert values_csv(values[:, :1], None) == b"value\n1.5\n3.0\n"
