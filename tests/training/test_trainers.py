"""Every trainer, in quick mode, publishes a complete and verifiable version."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pytest

from training.__main__ import NOT_PROMOTED, main
from training.pipeline import SPECS
from training.registry_writer import file_digest

NAMES = [spec.name for spec in SPECS]
METADATA_KEYS = {
    "name",
    "version",
    "dataset",
    "algorithm",
    "framework",
    "created_at",
    "library_versions",
    "input",
    "class_labels",
    "metrics",
    "files",
    "params",
}


def test_fourteen_models_are_defined() -> None:
    assert len(NAMES) == 14
    assert sum(name.startswith("iris-") for name in NAMES) == 6


@pytest.mark.parametrize("name", NAMES)
def test_trainer_writes_complete_metadata(quick_registry: Path, name: str) -> None:
    metadata = json.loads((quick_registry / name / "1" / "metadata.json").read_text())
    assert metadata.keys() >= METADATA_KEYS
    assert metadata["name"] == name and metadata["version"] == 1
    assert metadata["created_at"].endswith("+00:00")
    metrics = metadata["metrics"]
    assert 0.0 <= metrics["accuracy"] <= 1.0 and 0.0 <= metrics["macro_f1"] <= 1.0
    labels = metadata["class_labels"]
    assert set(metrics["per_class"]) == set(labels)
    matrix = np.asarray(metrics["confusion_matrix"])
    assert matrix.shape == (len(labels), len(labels)) and matrix.sum() == metrics["test_samples"]
    assert metrics["training_seconds"] >= 0
    if metadata["dataset"] == "iris":
        assert [f["name"] for f in metadata["input"]["features"]][0] == "sepal_length"
        assert 0 < metrics["cv_accuracy"]["mean"] <= 1 and metrics["cv_accuracy"]["folds"] == 5
    else:
        assert metadata["input"]["shape"] == [28, 28] and metadata["input"]["ink"] == "bright"


@pytest.mark.parametrize("name", NAMES)
def test_every_file_matches_its_recorded_checksum_and_plots_exist(
    quick_registry: Path, name: str
) -> None:
    folder = quick_registry / name / "1"
    files = json.loads((folder / "metadata.json").read_text())["files"]
    on_disk = {p.name for p in folder.iterdir()} - {"metadata.json"}
    assert set(files) == on_disk
    for file_name, recorded in files.items():
        assert file_digest(folder / file_name) == recorded
    assert "confusion_matrix.png" in files
    if name.startswith("iris-"):
        assert "decision_regions.png" in files
    if name in ("mnist-mlp", "mnist-cnn"):
        assert {"model.keras", "model.tflite", "training_history.png"} <= on_disk
    else:
        assert "model.joblib" in on_disk


@pytest.mark.parametrize("name", [n for n in NAMES if n not in ("mnist-mlp", "mnist-cnn")])
def test_sklearn_artifact_loads_and_gives_probabilities(quick_registry: Path, name: str) -> None:
    folder = quick_registry / name / "1"
    metadata = json.loads((folder / "metadata.json").read_text())
    estimator = joblib.load(folder / "model.joblib")
    row = np.full((1, metadata["input"]["n_features"]), 3.0)
    probabilities = estimator.predict_proba(row)
    assert probabilities.shape == (1, len(metadata["class_labels"]))
    assert probabilities.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["mnist-mlp", "mnist-cnn"])
def test_tflite_export_agrees_with_keras(quick_registry: Path, name: str) -> None:
    metadata = json.loads((quick_registry / name / "1" / "metadata.json").read_text())
    export = metadata["metrics"]["tflite_export"]
    assert export["label_agreement"] >= 0.999
    assert export["max_abs_probability_diff"] <= 1e-4


def test_second_run_adds_a_version_and_missing_skips(quick_registry: Path, tmp_path: Path) -> None:
    registry = tmp_path / "models"
    args = ["--quick", "--model", "iris-naive-bayes", "--registry-dir", str(registry)]
    assert main(args) == NOT_PROMOTED and main(args) == NOT_PROMOTED
    assert sorted(p.name for p in (registry / "iris-naive-bayes").iterdir()) == ["1", "2"]
    assert main([*args, "--missing"]) == 0
    assert sorted(p.name for p in (registry / "iris-naive-bayes").iterdir()) == ["1", "2"]


def test_unknown_model_name_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--model", "iris-nope", "--registry-dir", str(tmp_path)]) == 2
    assert "unknown model(s): iris-nope" in capsys.readouterr().err
