"""python -m training import with XGBoost and LightGBM files, a two-input ONNX graph and an
MLflow model folder: each becomes a verified ONNX version with its signature."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest

from tests.training.import_models import customers, prices, read_back, write_eval
from training.__main__ import main


def _imported(source: Path, registry: Path, *extra: str) -> dict[str, Any]:
    assert (
        main(["import", str(source), "--name", "imported", "--registry-dir", str(registry), *extra])
        == 0
    )
    assert read_back(registry, "imported").format_version == 1  # as the server reads it
    return json.loads((registry / "imported" / "1" / "metadata.json").read_text())


@pytest.fixture
def price_example(tmp_path: Path) -> Path:
    features, _ = prices()
    features.head().to_csv(tmp_path / "example.csv", index=False)
    return tmp_path / "example.csv"


def test_xgboost_booster_file_keeps_its_feature_names_in_the_signature(
    tmp_path: Path, price_example: Path
) -> None:
    import xgboost

    features, target = prices()
    model = xgboost.XGBClassifier(n_estimators=5, max_depth=3).fit(
        features, target > target.median()
    )
    model.get_booster().save_model(tmp_path / "model.json")
    metadata = _imported(
        tmp_path / "model.json", tmp_path / "models", "--example", str(price_example)
    )
    assert [c["name"] for c in metadata["signature"]["inputs"]] == ["area", "rooms"]
    assert metadata["signature"]["classes"] == {"labels": ["0", "1"], "type": "int64"}
    assert metadata["verification"]["label_agreement"] == 1.0
    assert metadata["signature"]["tensors"][0]["type"] == "float32"


def test_xgboost_regressor_as_the_last_step_of_a_pipeline_is_converted(tmp_path: Path) -> None:
    import xgboost
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    features, target = prices()
    model = make_pipeline(SimpleImputer(), xgboost.XGBRegressor(n_estimators=5, max_depth=3))
    joblib.dump(model.fit(features, target), tmp_path / "model.joblib")
    held_out, truth = prices(80)
    evaluation = write_eval(tmp_path / "eval.csv", held_out, truth)
    metadata = _imported(
        tmp_path / "model.joblib",
        tmp_path / "models",
        "--eval",
        str(evaluation),
        "--target",
        "price",
    )
    assert metadata["signature"]["task"] == "regression"
    assert metadata["verification"]["max_relative_value_diff"] <= 1e-4
    assert metadata["metrics"]["r2"] > 0.5


def test_lightgbm_booster_file_converts_as_is(tmp_path: Path, price_example: Path) -> None:
    import lightgbm

    features, target = prices()
    model = lightgbm.LGBMRegressor(n_estimators=5, num_leaves=7, verbose=-1).fit(features, target)
    model.booster_.save_model(tmp_path / "model.txt")
    metadata = _imported(
        tmp_path / "model.txt", tmp_path / "models", "--example", str(price_example)
    )
    assert metadata["framework"] == "lightgbm"
    assert metadata["verification"]["max_relative_value_diff"] <= 1e-4
    assert all(c["optional"] for c in metadata["signature"]["inputs"])  # LightGBM takes NaN


def _two_input_graph(path: Path) -> None:
    """probabilities = softmax(concat(a * 2, b)): inputs a [n, 1] and b [n, 1], float32."""
    import onnx
    from onnx import TensorProto, helper

    two = helper.make_tensor("two", TensorProto.FLOAT, [1], [2.0])
    nodes = [
        helper.make_node("Mul", ["a", "two"], ["doubled"]),
        helper.make_node("Concat", ["doubled", "b"], ["joined"], axis=1),
        helper.make_node("Softmax", ["joined"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "two-inputs",
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 1]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, ["N", 1]),
        ],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2])],
        [two],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 10
    onnx.save(model, path)


def test_two_input_onnx_graph_is_checked_and_its_inputs_become_the_signature(
    tmp_path: Path,
) -> None:
    _two_input_graph(tmp_path / "model.onnx")
    example = tmp_path / "example.json"
    example.write_text(json.dumps([{"a": 0.5, "b": 1.0}, {"a": -1.0, "b": 2.0}]))
    metadata = _imported(tmp_path / "model.onnx", tmp_path / "models", "--example", str(example))
    signature = metadata["signature"]
    assert [(c["name"], c["type"]) for c in signature["inputs"]] == [
        ("a", "float32"),
        ("b", "float32"),
    ]
    assert [t["name"] for t in signature["tensors"]] == ["a", "b"]
    assert signature["outputs"]["probabilities"] == "probabilities"
    assert signature["classes"] == {"labels": ["0", "1"], "type": "int64"}


def test_a_file_that_is_not_onnx_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "model.onnx").write_bytes(b"\x00not onnx")
    assert (
        main(
            ["import", str(tmp_path / "model.onnx"), "--name", "x", "--registry-dir", str(tmp_path)]
        )
        == 2
    )
    assert "is not a valid ONNX model" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())


def test_mlflow_sklearn_folder_brings_its_signature_and_input_example(tmp_path: Path) -> None:
    import mlflow.sklearn
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    from tests.training.import_models import churn_pipeline

    features, _ = customers()
    inputs = Schema(
        [ColSpec("string", "city"), ColSpec("long", "age"), ColSpec("double", "income", False)]
    )
    signature = ModelSignature(inputs, Schema([ColSpec("string")]))
    folder = tmp_path / "mlflow-model"
    # MLflow 3 saves with skops, trusting only the types named.
    trusted = ["numpy.dtype", "sklearn.tree._tree.Tree"]
    mlflow.sklearn.save_model(
        churn_pipeline(),
        folder,
        signature=signature,
        input_example=features.head(3),
        skops_trusted_types=trusted,
    )
    metadata = _imported(folder, tmp_path / "models")
    inputs = metadata["signature"]["inputs"]
    assert [(c["name"], c["type"]) for c in inputs] == [
        ("city", "string"),
        ("age", "int64"),
        ("income", "float64"),
    ]
    assert [c["optional"] for c in inputs] == [False, True, True]  # age: the forest imputes
    assert metadata["signature"]["classes"]["labels"] == ["no", "yes"]
    assert metadata["verification"]["example_rows"] == 3
    assert np.isclose(metadata["verification"]["max_abs_probability_diff"], 0, atol=1e-4)
