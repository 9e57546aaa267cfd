"""Learning curves and model cards for every quick-trained version, through HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from training.pipeline import SPECS

NAMES = [spec.name for spec in SPECS]
SECTIONS = ["## Data", "## Metrics", "## Training and testing error", "## Cost", "## Limitations"]


@pytest.mark.parametrize("name", NAMES)
def test_every_version_has_a_learning_curve(client: TestClient, name: str) -> None:
    metadata = client.get(f"/v1/models/{name}").json()
    curve = metadata["metrics"]["learning_curve"]
    errors = (
        curve["train_error"] + curve["test_error"]
        if curve["method"] == "epochs"
        else curve["train_error_mean"] + curve["test_error_mean"]
    )
    assert all(0 <= error <= 1 for error in errors)
    plot = client.get(f"/v1/models/{name}/versions/{metadata['version']}/plots/learning_curve.png")
    assert plot.status_code == 200 and plot.content.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "name", ["iris-decision-tree", "mnist-decision-tree", "mnist-random-forest"]
)
def test_trees_show_their_gap_between_training_and_testing_error(
    client: TestClient, name: str
) -> None:
    curve = client.get(f"/v1/models/{name}").json()["metrics"]["learning_curve"]
    assert curve["test_error_mean"][-1] > curve["train_error_mean"][-1]
    card = client.get(f"/v1/models/{name}/versions/1/card").text
    assert "overfits" in card


def test_mnist_learning_curves_say_they_use_a_subsample(quick_registry: Path) -> None:
    import json

    metadata = json.loads((quick_registry / "mnist-svm" / "1" / "metadata.json").read_text())
    curve = metadata["metrics"]["learning_curve"]
    assert curve["rows"] <= 4000 and curve["folds"] == 3


@pytest.mark.parametrize("name", NAMES)
def test_card_is_markdown_from_the_metadata(client: TestClient, name: str) -> None:
    response = client.get(f"/v1/models/{name}/versions/1/card")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    card = response.text
    assert card.startswith(f"# Model card: {name} version 1")
    assert all(section in card for section in SECTIONS)
    assert "Confusion matrix" in card and '"commit"' in card and "--quick" in card


def test_card_as_json_on_accept(client: TestClient) -> None:
    response = client.get(
        "/v1/models/mnist-cnn/versions/1/card", headers={"Accept": "application/json"}
    )
    assert response.status_code == 200
    card = response.json()
    assert card["model"]["artifact"] == "model.tflite"
    assert card["data"]["input"]["shape"] == [28, 28]
    assert len(card["metrics"]["confusion_matrix"]) == 10
    assert card["training_and_testing_error"]["method"] == "epochs"
    assert any("28x28" in item for item in card["limitations"])
    provenance = card["provenance"]
    assert set(provenance["dataset_files"]) == {
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    }
    assert provenance["seeds"]["model"] == 42 and provenance["command"].startswith("python")
    assert len(provenance["code"]["commit"]) == 40 and provenance["library_versions"]["tensorflow"]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/v1/models/nope/versions/1/card", 404, "model_not_found"),
        ("/v1/models/iris-svm/versions/99/card", 404, "version_not_found"),
        ("/v1/models/iris-svm/versions/0/card", 422, "invalid_request"),
        ("/v1/models/iris-svm/versions/x/card", 422, "invalid_request"),
    ],
)
def test_card_errors_in_the_native_shape(
    client: TestClient, path: str, status: int, code: str
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_card_and_comparison_routes_are_in_openapi(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/models/{name}/versions/{version}/card" in paths
    assert "/v1/datasets/{dataset}/comparison" in paths
    assert "/v1/datasets/{dataset}/comparison.png" in paths
