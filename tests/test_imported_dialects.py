"""Every kind of model `python -m training import` takes, imported into one registry and served:
the native predict, the Open Inference Protocol (tensors as its metadata describes them) and TF
Serving's :predict each answer what the original model predicts."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tests.helpers import make_client
from tests.training.import_models import (
    churn_pipeline,
    customers,
    keras_rooms,
    prices,
    write_eval,
)
from training.__main__ import main


@dataclass
class Imported:
    """An imported model's rows to ask about and what the original answers for them: class
    probabilities (in the signature's class order) or values."""

    rows: pd.DataFrame
    expected: np.ndarray
    task: str


def _import(source: Path, registry: Path, name: str, *extra: str) -> None:
    command = ["import", str(source), "--name", name, "--registry-dir", str(registry), *extra]
    assert main(command) == 0


def _sklearn_churn(folder: Path, registry: Path) -> Imported:
    model = churn_pipeline()
    joblib.dump(model, folder / "churn.joblib")
    rows, _ = customers(40, seed=4)
    rows.head().to_csv(folder / "churn.csv", index=False)
    _import(folder / "churn.joblib", registry, "churn", "--example", str(folder / "churn.csv"))
    return Imported(rows, model.predict_proba(rows), "classification")


def _xgboost_regressor(folder: Path, registry: Path) -> Imported:
    import xgboost
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    features, target = prices()
    model = make_pipeline(SimpleImputer(), xgboost.XGBRegressor(n_estimators=5, max_depth=3))
    joblib.dump(model.fit(features, target), folder / "price.joblib")
    held_out, truth = prices(60)
    evaluation = write_eval(folder / "eval.csv", held_out, truth)
    arguments = ("--eval", str(evaluation), "--target", "price")
    _import(folder / "price.joblib", registry, "xgb-price", *arguments)
    return Imported(held_out, model.predict(held_out), "regression")


def _xgboost_classifier(folder: Path, registry: Path) -> Imported:
    import xgboost

    features, target = prices()
    model = xgboost.XGBClassifier(n_estimators=5, max_depth=3).fit(features, target > 300)
    model.get_booster().save_model(folder / "above.json")
    features.head().to_csv(folder / "above.csv", index=False)
    _import(folder / "above.json", registry, "xgb-above", "--example", str(folder / "above.csv"))
    rows = features.head(40)
    return Imported(rows, model.predict_proba(rows), "classification")


def _lightgbm_regressor(folder: Path, registry: Path) -> Imported:
    import lightgbm

    features, target = prices()
    model = lightgbm.LGBMRegressor(n_estimators=5, num_leaves=7, verbose=-1).fit(features, target)
    model.booster_.save_model(folder / "price.txt")
    features.head().to_csv(folder / "lgbm.csv", index=False)
    _import(folder / "price.txt", registry, "lgbm-price", "--example", str(folder / "lgbm.csv"))
    rows = features.head(40)
    return Imported(rows, np.asarray(model.predict(rows)), "regression")


def _mlflow_churn(folder: Path, registry: Path) -> Imported:
    import mlflow.sklearn

    model = churn_pipeline(max_depth=4)
    rows, _ = customers(40, seed=5)
    trusted = ["numpy.dtype", "sklearn.tree._tree.Tree"]  # MLflow 3 saves with skops
    mlflow.sklearn.save_model(
        model, folder / "mlflow", input_example=rows.head(3), skops_trusted_types=trusted
    )
    _import(folder / "mlflow", registry, "mlflow-churn")
    return Imported(rows, model.predict_proba(rows), "classification")


SOURCES: dict[str, Callable[[Path, Path], Imported]] = {
    "churn": _sklearn_churn,
    "xgb-price": _xgboost_regressor,
    "xgb-above": _xgboost_classifier,
    "lgbm-price": _lightgbm_regressor,
    "mlflow-churn": _mlflow_churn,
}


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("imported") / "models"


@pytest.fixture(scope="module")
def imported(registry: Path) -> dict[str, Imported]:
    return {name: source(registry.parent, registry) for name, source in SOURCES.items()}


@pytest.fixture(scope="module")
def served(registry: Path, imported: dict[str, Imported]) -> Iterator[TestClient]:
    with make_client(registry) as client:
        yield client


def _records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON records: a gap is null, numpy numbers as JSON numbers."""
    records = [
        {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
        for row in rows.to_dict("records")
    ]
    loaded: list[dict[str, Any]] = json.loads(json.dumps(records, default=float))
    return loaded


def _v2_body(metadata: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    """The tensors the model's V2 metadata describes: one per column, or one [n, k] 'input'."""
    names = list(records[0])
    tensors = []
    for tensor in metadata["inputs"]:
        columns = names if tensor["name"] == "input" else [tensor["name"]]
        data = [[row[name] for name in columns] for row in records]
        tensors.append(
            {
                "name": tensor["name"],
                "datatype": tensor["datatype"],
                "shape": [len(records), len(columns)],
                "data": data,
            }
        )
    return {"inputs": tensors}


def _answers(client: TestClient, name: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """What each dialect answers for the rows: probabilities [n, classes] or values [n]."""
    native = client.post(f"/v1/models/{name}/predict", json={"instances": records})
    assert native.status_code == 200, native.text
    metadata = client.get(f"/v2/models/{name}").json()
    v2 = client.post(f"/v2/models/{name}/infer", json=_v2_body(metadata, records))
    assert v2.status_code == 200, v2.text
    tf_serving = client.post(f"/v1/models/{name}:predict", json={"instances": records})
    assert tf_serving.status_code == 200, tf_serving.text
    predictions = native.json()["predictions"]
    outputs = {output["name"]: output for output in v2.json()["outputs"]}
    if "value" in outputs:
        return {
            "native": [p["value"] for p in predictions],
            "v2": outputs["value"]["data"],
            "tf_serving": tf_serving.json()["predictions"],
        }
    labels = metadata["parameters"]["class_labels"].split(",")
    return {
        "native": [[p["probabilities"][label] for label in labels] for p in predictions],
        "v2": np.reshape(outputs["probabilities"]["data"], (len(records), -1)),
        "tf_serving": tf_serving.json()["predictions"],
    }


@pytest.mark.parametrize("name", list(SOURCES))
def test_every_dialect_answers_what_the_original_predicts(
    served: TestClient, imported: dict[str, Imported], name: str
) -> None:
    model = imported[name]
    records = _records(model.rows)  # with gaps (null) for every source but the booster
    for dialect, answer in _answers(served, name, records).items():
        got = np.asarray(answer, dtype=np.float64)
        if model.task == "regression":
            np.testing.assert_allclose(got.reshape(-1), model.expected, rtol=1e-4, err_msg=dialect)
        else:
            np.testing.assert_allclose(got, model.expected, atol=1e-5, err_msg=dialect)


@pytest.mark.keras
def test_an_imported_keras_model_answers_the_same_in_every_dialect(tmp_path: Path) -> None:
    model, features = keras_rooms(tmp_path)
    registry = tmp_path / "models"
    arguments = ("--example", str(tmp_path / "example.csv"))
    _import(tmp_path / "model.keras", registry, "rooms", *arguments)
    rows = features.head(20)
    expected = model.predict(rows.to_numpy(np.float32), verbose=0)
    with make_client(registry) as client:
        answers = _answers(client, "rooms", _records(rows))
    for dialect, answer in answers.items():
        np.testing.assert_allclose(np.asarray(answer), expected, atol=1e-5, err_msg=dialect)
