"""python -m training import with a Keras file: exported to TFLite, checked against Keras."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.training.import_models import keras_rooms, read_back
from training.__main__ import main


@pytest.mark.keras
def test_keras_classifier_is_exported_to_tflite_and_verified(tmp_path: Path) -> None:
    keras_rooms(tmp_path)
    registry = tmp_path / "models"
    arguments = ["import", str(tmp_path / "model.keras"), "--name", "rooms"]
    assert (
        main(
            [
                *arguments,
                "--example",
                str(tmp_path / "example.csv"),
                "--registry-dir",
                str(registry),
            ]
        )
        == 0
    )
    metadata = json.loads((registry / "rooms" / "1" / "metadata.json").read_text())
    assert metadata["artifact"] == "model.tflite"
    signature = metadata["signature"]
    assert [c["name"] for c in signature["inputs"]] == ["area", "rooms"]
    assert signature["tensors"][0]["shape"] == [2]
    assert signature["classes"] == {"labels": ["0", "1", "2"], "type": "int64"}
    assert metadata["verification"]["max_abs_probability_diff"] <= 1e-4
    assert read_back(registry, "rooms").tensors[0].name == signature["tensors"][0]["name"]
    # Without --eval its dataset is its name; compare times the TFLite file on its example rows.
    assert metadata["dataset"] == "rooms"
    compare = ["compare", "--dataset", "rooms", "--seconds", "0.1", "--registry-dir"]
    assert main([*compare, str(registry)]) == 0
    document = json.loads((registry / "_comparisons/rooms/comparison.json").read_text())
    [row] = document["rows"]
    assert row["accuracy"] is None and not row["pareto"]  # no eval metrics to weigh
    assert row["timed_on"] == "example" and row["one_row_median_us"] > 0


def test_a_keras_file_without_tensorflow_installed_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "keras", None)  # import keras fails
    (tmp_path / "model.keras").write_bytes(b"PK")
    assert (
        main(
            [
                "import",
                str(tmp_path / "model.keras"),
                "--name",
                "k",
                "--registry-dir",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert "TensorFlow is not installed" in capsys.readouterr().err
