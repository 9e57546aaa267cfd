"""At load, the stored example goes through the artifact and its outputs are checked against
the signature: a mismatch is a failed version with its reason, never ready-then-500."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import make_client
from tests.tabular_models import (
    CLASSIFIER_COLUMNS,
    TabularModels,
    churn_frame,
    records,
    signature,
    write_version,
)


def _load(tmp_path: Path, models: TabularModels, document: dict[str, Any], example: Any) -> str:
    registry = tmp_path / "models"
    write_version(registry, "churn", 1, models.classifier_onnx, document, example)
    with make_client(registry) as client:
        listed = client.get("/v1/models").json()["models"]
        ready = client.get("/health/ready").json()
        predict = client.post("/v1/models/churn/predict", json={"instances": example or [{}]})
    [model] = listed
    assert model["status"] == "failed"
    assert predict.status_code == 503
    [failed] = model["failed_versions"]
    assert ready.get("failed") == [f"churn/1: {failed['reason']}"] or "failed" in str(ready)
    reason: str = failed["reason"]
    return reason


def _signature(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(signature(CLASSIFIER_COLUMNS, "classification"))
    document.update(changes)
    return document


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        (
            {"classes": {"labels": ["no", "yes", "maybe"], "type": "string"}},
            "2 probabilities a row; the signature has 3 class labels",
        ),
        ({"outputs": {"probabilities": "scores"}}, "no output 'scores'"),
        (
            {"classes": {"labels": ["0", "1"], "type": "int64"}, "outputs": {"label": "label"}},
            "not one of the class labels",
        ),
        ({"task": "regression", "outputs": {"value": "label"}, "classes": None}, "numbers"),
    ],
)
def test_outputs_unlike_the_signature_fail_the_version_with_the_reason(
    tmp_path: Path, tabular_models: TabularModels, changes: dict[str, Any], says: str
) -> None:
    example = records(churn_frame(3))
    reason = _load(tmp_path, tabular_models, _signature(**changes), example)
    assert "outputs do not match the signature" in reason and says in reason, reason


def test_tensors_the_artifact_lacks_fail_the_version(
    tmp_path: Path, tabular_models: TabularModels
) -> None:
    document = _signature()
    document["tensors"][0]["name"] = "town"
    reason = _load(tmp_path, tabular_models, document, records(churn_frame(3)))
    assert "has no input 'town'" in reason, reason


def test_an_example_that_does_not_fit_fails_the_version(
    tmp_path: Path, tabular_models: TabularModels
) -> None:
    example = records(churn_frame(3))
    example[1]["visits"] = "many"
    reason = _load(tmp_path, tabular_models, _signature(), example)
    assert "example[1][visits]" in reason and "expected a number" in reason, reason


def test_without_an_example_synthetic_rows_check_the_version(
    tmp_path: Path, tabular_models: TabularModels
) -> None:
    registry = tmp_path / "models"
    document = signature(CLASSIFIER_COLUMNS, "classification", example=None)
    write_version(registry, "churn", 1, tabular_models.classifier_onnx, document)
    with make_client(registry) as client:
        rows = records(churn_frame(2))
        response = client.post("/v1/models/churn/predict", json={"instances": rows})
    assert response.status_code == 200, response.text
