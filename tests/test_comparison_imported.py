"""python -m training compare for imported models: real tiny models imported against one eval
file, compared from their recorded eval metrics and timed on their example rows, then served."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import joblib
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline

from tests.helpers import make_client
from tests.training.import_models import churn_pipeline, customers, prices, write_eval
from training.__main__ import main

SECONDS = "0.1"
CHURNED, PRICE = ("--target", "churned"), ("--target", "price")


def _import(registry: Path, source: Path, name: str, *extra: str) -> None:
    arguments = ["import", str(source), "--name", name, "--registry-dir", str(registry)]
    assert main([*arguments, *extra]) == 0


def _compare(registry: Path, dataset: str, *extra: str) -> int:
    arguments = ["compare", "--dataset", dataset, "--seconds", SECONDS]
    return main([*arguments, "--registry-dir", str(registry), *extra])


def _comparison(registry: Path, dataset: str) -> dict[str, Any]:
    return json.loads((registry / "_comparisons" / dataset / "comparison.json").read_text())


def _metadata(registry: Path, name: str, version: int = 1) -> dict[str, Any]:
    return json.loads((registry / name / str(version) / "metadata.json").read_text())


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two churn classifiers imported against customers.csv, a price regressor against
    prices.csv; nothing compared yet."""
    folder = tmp_path_factory.mktemp("imported")
    registry = folder / "models"
    features, truth = customers(120, seed=1)
    held_out = write_eval(folder / "customers.csv", features, truth)
    for name, depth in (("churn", 6), ("churn-shallow", 2)):
        joblib.dump(churn_pipeline(depth), folder / f"{name}.joblib")
        _import(registry, folder / f"{name}.joblib", name, "--eval", str(held_out), *CHURNED)
    rows, target = prices()
    regressor = make_pipeline(SimpleImputer(), LinearRegression()).fit(rows, target)
    joblib.dump(regressor, folder / "price.joblib")
    eval_rows, eval_target = prices(80)
    prices_file = write_eval(folder / "prices.csv", eval_rows, eval_target)
    _import(registry, folder / "price.joblib", "price", "--eval", str(prices_file), *PRICE)
    return registry


@pytest.fixture(scope="module")
def compared(imported: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    registry = tmp_path_factory.mktemp("compared") / "models"
    shutil.copytree(imported, registry)
    assert _compare(registry, "customers", "--dataset", "prices") == 0
    return registry


def test_import_names_its_dataset_after_the_eval_file(imported: Path) -> None:
    churn = _metadata(imported, "churn")
    assert churn["dataset"] == "customers" and _metadata(imported, "price")["dataset"] == "prices"
    assert churn["evaluation_data"]["file"] == "customers.csv"


def test_import_takes_a_dataset_name_and_refuses_a_bad_one(imported: Path, tmp_path: Path) -> None:
    registry = tmp_path / "models"
    source = imported.parent / "price.joblib"
    _import(registry, source, "named", "--dataset", "house-prices")
    assert _metadata(registry, "named")["dataset"] == "house-prices"
    arguments = ["import", str(source), "--name", "bad", "--registry-dir", str(registry)]
    assert main([*arguments, "--dataset", "Prices.csv"]) == 2
    assert not (registry / "bad").exists()


def test_two_classifiers_imported_against_one_eval_file_are_compared(compared: Path) -> None:
    comparison = _comparison(compared, "customers")
    rows = {row["name"]: row for row in comparison["rows"]}
    assert sorted(rows) == ["churn", "churn-shallow"]
    for name, row in rows.items():
        metrics = _metadata(compared, name)["metrics"]
        assert row["task"] == "classification" and row["imported"]
        assert (row["accuracy"], row["macro_f1"]) == (metrics["accuracy"], metrics["macro_f1"])
        assert row["evaluated_rows"] == 120
        assert row["timed_on"] == "example" and row["timed_rows"] == 5
        assert row["one_row_median_us"] > 0 and row["one_row_p99_us"] >= row["one_row_median_us"]
        assert row["batch_rows_per_second"] > 0
        assert row["train_error"] is None and row["training_seconds"] is None
    assert rows["churn"]["accuracy"] > rows["churn-shallow"]["accuracy"]
    assert rows["churn"]["pareto"]  # nothing is more accurate
    assert "example rows (example.json)" in comparison["measured_with"]["input"]
    table = (compared / "_comparisons" / "customers" / "comparison.md").read_text()
    assert "| accuracy | macro F1 |" in table and "| churn | 1 |" in table


def test_regressor_is_compared_by_r2_and_mae(compared: Path) -> None:
    [row] = _comparison(compared, "prices")["rows"]
    metrics = _metadata(compared, "price")["metrics"]
    assert row["task"] == "regression" and "accuracy" not in row
    assert (row["r2"], row["mae"], row["rmse"]) == (metrics["r2"], metrics["mae"], metrics["rmse"])
    assert row["one_row_median_us"] > 0 and row["pareto"]
    table = (compared / "_comparisons" / "prices" / "comparison.md").read_text()
    assert "| model | version | R² | MAE | RMSE |" in table
    assert f"| price | 1 | {metrics['r2']:.4f} |" in table


def test_the_server_lists_and_serves_imported_comparisons(compared: Path) -> None:
    folder = compared / "_comparisons" / "customers"
    with make_client(compared) as client:
        listed = client.get("/v1/datasets").json()["datasets"]
        assert listed == [
            {"name": "customers", "models": ["churn", "churn-shallow"], "compared": True},
            {"name": "prices", "models": ["price"], "compared": True},
        ]
        document = client.get("/v1/datasets/customers/comparison").json()
        plot = client.get("/v1/datasets/customers/comparison.png")
        card = client.get("/v1/models/churn/versions/1/card").text
    assert document == json.loads((folder / "comparison.json").read_text())
    assert plot.status_code == 200 and plot.content == (folder / "comparison.png").read_bytes()
    assert "Serving (from the customers comparison): one row" in card
    assert "No training run" in card and "Training: none here (imported)" in card


def test_a_dataset_not_compared_is_listed_as_such(imported: Path) -> None:
    with make_client(imported) as client:
        listed = client.get("/v1/datasets").json()["datasets"]
    assert [(d["name"], d["compared"]) for d in listed] == [
        ("customers", False),
        ("prices", False),
    ]


def test_if_stale_skips_until_the_serving_version_changes(
    imported: Path, compared: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = tmp_path / "models"
    shutil.copytree(compared, registry)
    source = imported.parent / "churn-shallow.joblib"
    assert _compare(registry, "customers", "--if-stale") == 0
    assert "customers: comparison up to date" in capsys.readouterr().out
    eval_file = str(source.parent / "customers.csv")
    _import(registry, source, "churn-shallow", "--eval", eval_file, *CHURNED, "--no-promote")
    assert _compare(registry, "customers", "--if-stale") == 0  # production did not move
    assert "up to date" in capsys.readouterr().out
    _import(registry, source, "churn-shallow", "--eval", eval_file, *CHURNED)
    assert _compare(registry, "customers", "--if-stale") == 0
    assert "written to" in capsys.readouterr().out
    versions = {row["name"]: row["version"] for row in _comparison(registry, "customers")["rows"]}
    assert versions == {"churn": 1, "churn-shallow": 3}


def test_compare_refuses_a_name_the_server_cannot_serve(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["compare", "--dataset", "eval.csv"])
    assert stopped.value.code == 2
    assert "import them again with --dataset NAME" in capsys.readouterr().err


def test_compare_of_an_unknown_dataset_names_those_there(
    imported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _compare(imported, "houses") == 2
    assert "(its datasets: customers, prices)" in capsys.readouterr().err


def test_a_mixed_set_is_grouped_by_task(imported: Path, tmp_path: Path) -> None:
    from PIL import Image

    registry = tmp_path / "models"
    shutil.copytree(imported, registry)
    prices_file = str(imported.parent / "prices.csv")
    source = imported.parent / "price.joblib"
    _import(registry, source, "price-too", "--eval", prices_file, *PRICE, "--dataset", "customers")
    assert _compare(registry, "customers") == 0
    rows = {row["name"]: row for row in _comparison(registry, "customers")["rows"]}
    assert {name: row["task"] for name, row in rows.items()} == {
        "churn": "classification",
        "churn-shallow": "classification",
        "price-too": "regression",
    }
    # Each task has its own front: the regressor is not weighed against the classifiers.
    assert rows["churn"]["pareto"] and rows["price-too"]["pareto"]
    table = (registry / "_comparisons" / "customers" / "comparison.md").read_text()
    assert table.index("**Classifiers**") < table.index("**Regressors**")
    with Image.open(registry / "_comparisons" / "customers" / "comparison.png") as plot:
        assert plot.size == (675, 864)  # one 7.5 x 4.8 in panel a task, at 90 dpi


def test_pareto_leaves_out_rows_without_a_metric_or_a_latency() -> None:
    from training.comparison_rows import pareto

    rows: list[dict[str, Any]] = [
        {"task": "regression", "r2": 0.9, "one_row_median_us": 10.0},
        {"task": "regression", "r2": 0.8, "one_row_median_us": 5.0},
        {"task": "regression", "r2": 0.7, "one_row_median_us": 20.0},
        {"task": "regression", "r2": None, "one_row_median_us": 1.0},
        {"task": "classification", "accuracy": 0.5, "one_row_median_us": None},
        {"task": "classification", "accuracy": 0.4, "one_row_median_us": 50.0},
    ]
    pareto(rows)
    assert [row["pareto"] for row in rows] == [True, True, False, False, False, True]


def test_a_version_imported_before_datasets_were_named_still_loads(
    imported: Path, tmp_path: Path
) -> None:
    """Imports used to record the eval file's name as the dataset: such a registry is served
    as before, its dataset listed as not compared (not a name comparisons are served under)."""
    registry = tmp_path / "models"
    shutil.copytree(imported / "price", registry / "price")
    metadata_file = registry / "price" / "1" / "metadata.json"
    metadata = json.loads(metadata_file.read_text())
    metadata["dataset"] = "prices.csv"
    del metadata["evaluation_data"]["file"]
    metadata_file.write_text(json.dumps(metadata))
    with make_client(registry) as client:
        listed = client.get("/v1/datasets").json()["datasets"]
        card = client.get("/v1/models/price/versions/1/card")
    assert listed == [{"name": "prices.csv", "models": ["price"], "compared": False}]
    assert card.status_code == 200 and "Serving: not in a comparison" in card.text
