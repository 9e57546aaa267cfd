"""python -m training import with scikit-learn models: exported to ONNX, verified, evaluated,
read back by the server's repository; and the refusals, which write nothing."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pytest

from tests.training.import_models import (
    churn_pipeline,
    customers,
    prices,
    read_back,
    write_eval,
)
from training import publish
from training.__main__ import main


@pytest.fixture
def churn_files(tmp_path: Path) -> dict[str, Path]:
    features, target = customers()
    model = churn_pipeline()
    joblib.dump(model, tmp_path / "churn.joblib")
    features.head(5).to_csv(tmp_path / "example.csv", index=False)
    held_out, truth = customers(120)
    return {
        "model": tmp_path / "churn.joblib",
        "example": tmp_path / "example.csv",
        "eval": write_eval(tmp_path / "eval.csv", held_out, truth),
    }


def _metadata(registry: Path, name: str, version: int = 1) -> dict:
    return json.loads((registry / name / str(version) / "metadata.json").read_text())


def test_pipeline_over_text_integer_and_float_columns_imports_with_its_signature(
    churn_files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = tmp_path / "models"
    arguments = ["import", str(churn_files["model"]), "--name", "churn", "--example"]
    arguments += [str(churn_files["example"]), "--eval", str(churn_files["eval"])]
    assert main([*arguments, "--target", "churned", "--registry-dir", str(registry)]) == 0
    printed = capsys.readouterr().out
    assert "as churn version 1" in printed and "labels equal 100.00%" in printed
    metadata = _metadata(registry, "churn")
    signature = metadata["signature"]
    assert [(c["name"], c["type"]) for c in signature["inputs"]] == [
        ("city", "string"),
        ("age", "int64"),
        ("income", "float64"),
    ]
    assert signature["inputs"][2]["optional"] and signature["inputs"][2]["observed"]["missing"] > 0
    assert set(signature["inputs"][0]["observed"]["categories"]) == {"paris", "lyon", "nice"}
    assert signature["classes"] == {"labels": ["no", "yes"], "type": "string"}
    assert signature["outputs"]["probabilities"] == "probabilities"
    assert [t["type"] for t in signature["tensors"]] == ["string", "float64", "float64"]
    assert metadata["verification"]["passed"]
    assert metadata["verification"]["max_abs_probability_diff"] <= 1e-4
    assert metadata["metrics"]["accuracy"] > 0.8
    assert len(metadata["evaluation_data"]["sha256"]) == 64
    assert json.loads((registry / "churn" / "labels.json").read_text())["labels"]["production"]
    # The server's reader takes what training wrote: checksums, metadata, artifact.
    served = read_back(registry, "churn")
    assert [tensor.name for tensor in served.tensors] == ["city", "age", "income"]
    assert served.classes is not None and served.classes.labels == ["no", "yes"]


def test_hist_gradient_boosting_regressor_with_gaps_publishes_from_python(tmp_path: Path) -> None:
    from sklearn.ensemble import HistGradientBoostingRegressor

    features, target = prices()
    model = HistGradientBoostingRegressor(max_iter=10, random_state=0).fit(features, target)
    held_out, truth = prices(100)
    imported = publish(
        model, name="prices", example=features.head(), eval=(held_out, truth), registry_dir=tmp_path
    )
    assert imported.verification["passed"]
    assert imported.verification["max_relative_value_diff"] <= 1e-4
    metadata = _metadata(tmp_path, "prices")
    assert metadata["signature"]["task"] == "regression"
    assert metadata["signature"]["outputs"]["value"]
    assert metadata["signature"]["targets"] == ["price"]
    assert [c["optional"] for c in metadata["signature"]["inputs"]] == [True, True]
    assert set(metadata["metrics"]) >= {"mae", "rmse", "r2"}
    assert "predicted_actual.png" in metadata["files"]
    served = read_back(tmp_path, "prices")
    assert served.task == "regression" and served.outputs.value == "variable"


def test_a_worse_version_on_the_same_eval_file_is_published_but_not_promoted(
    churn_files: dict[str, Path], tmp_path: Path
) -> None:
    registry = tmp_path / "models"
    common = [
        "--eval",
        str(churn_files["eval"]),
        "--target",
        "churned",
        "--registry-dir",
        str(registry),
    ]
    assert main(["import", str(churn_files["model"]), "--name", "churn", *common]) == 0
    joblib.dump(churn_pipeline(max_depth=1), tmp_path / "stump.joblib")
    assert main(["import", str(tmp_path / "stump.joblib"), "--name", "churn", *common]) == 3
    assert (registry / "churn" / "2").is_dir()
    labels = json.loads((registry / "churn" / "labels.json").read_text())["labels"]
    assert labels["production"]["version"] == 1


def _refused(arguments: list[str], registry: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["import", *arguments, "--registry-dir", str(registry)]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1
    versions = (
        [p for p in registry.glob("*/*") if p.name != "labels.json"] if registry.exists() else []
    )
    assert versions == []
    return captured.err


def test_function_transformer_is_refused_saying_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    features, target = prices()
    model = make_pipeline(FunctionTransformer(np.log1p), LogisticRegression())
    model.fit(features.fillna(0), target > target.median())
    joblib.dump(model, tmp_path / "logged.joblib")
    error = _refused([str(tmp_path / "logged.joblib"), "--name", "logged"], tmp_path / "m", capsys)
    assert "FunctionTransformer" in error and "log1p" in error and "--keep-pickle" in error


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unreadable", "cannot read"),
        ("unknown", "unknown kind of file"),
        ("columns", "do not match the model"),
        ("target", "has no column 'nope'"),
        ("name", "invalid model name"),
    ],
)
def test_bad_input_exits_2_with_one_sentence_and_writes_nothing(
    case: str,
    expected: str,
    churn_files: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    model, name = str(churn_files["model"]), "churn"
    extra: list[str] = []
    if case == "unreadable":
        broken = tmp_path / "broken.joblib"
        broken.write_bytes(b"not a pickle")
        model = str(broken)
    elif case == "unknown":
        model = str(churn_files["example"])
    elif case == "columns":
        features, _ = customers(5)
        features.rename(columns={"age": "years"}).to_csv(tmp_path / "wrong.csv", index=False)
        extra = ["--example", str(tmp_path / "wrong.csv")]
    elif case == "target":
        extra = ["--eval", str(churn_files["eval"]), "--target", "nope"]
    else:
        name = "Churn Model"
    error = _refused([model, "--name", name, *extra], tmp_path / "models", capsys)
    assert expected in error


def test_skops_file_imports_and_keep_pickle_stores_the_original(
    tmp_path: Path, churn_files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    import skops.io

    model = churn_pipeline()
    skops.io.dump(model, tmp_path / "churn.skops")
    source, registry = str(tmp_path / "churn.skops"), tmp_path / "models"
    where = ["--registry-dir", str(registry)]
    # Without example rows there is nothing to tell a text column from a number.
    assert main(["import", source, "--name", "churn", *where]) == 2
    assert "give --example FILE" in capsys.readouterr().err
    example = ["--example", str(churn_files["example"])]
    assert main(["import", source, "--name", "churn", *where, *example]) == 0
    assert _metadata(registry, "churn")["artifact"] == "model.onnx"
    arguments = ["import", source, "--name", "churn", "--keep-pickle", "--no-promote"]
    assert main([*arguments, *where, *example]) == 0
    metadata = _metadata(registry, "churn", 2)
    assert metadata["artifact"] == "model.joblib"
    assert metadata["verification"]["max_abs_probability_diff"] == 0


def test_hist_gradient_boosting_classifier_with_gaps_converts_despite_its_bool_flags(
    tmp_path: Path,
) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    features, target = prices()
    labels = np.where(target > target.median(), "dear", "cheap")
    model = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(features, labels)
    imported = publish(model, name="dear", example=features.head(), registry_dir=tmp_path)
    assert imported.verification["label_agreement"] == 1.0
    assert imported.verification["max_abs_probability_diff"] <= 1e-4
    assert all(column["optional"] for column in imported.inputs)
