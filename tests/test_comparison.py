"""python -m training compare on the quick registry, and the comparison served over HTTP."""

from __future__ import annotations

import json
import shutil
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.registry.registry import ModelRegistry
from app.runtimes import LOADERS, artifact_format
from tests.helpers import ServerProcess, make_client
from training.__main__ import main

DATASETS = {"iris": 6, "mnist": 8}


@pytest.fixture(scope="module")
def compared(compared_registry: Path) -> Path:
    return compared_registry


@pytest.fixture(scope="module")
def http(compared: Path) -> Iterator[TestClient]:
    with make_client(compared) as client:
        yield client


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_comparison_covers_the_version_each_model_serves(http: TestClient, dataset: str) -> None:
    comparison = http.get(f"/v1/datasets/{dataset}/comparison").json()
    rows = comparison["rows"]
    assert len(rows) == DATASETS[dataset]
    for row in rows:
        served = http.get(f"/v1/models/{row['name']}").json()  # what unpinned requests get
        assert row["version"] == served["version"]
        assert row["accuracy"] == served["metrics"]["accuracy"]
        assert row["macro_f1"] == served["metrics"]["macro_f1"]
        assert row["one_row_median_us"] > 0 and row["one_row_p99_us"] >= row["one_row_median_us"]
        assert row["batch_rows_per_second"] > 0 and row["memory_bytes"] is not None
        assert row["train_error"] is not None and row["test_error"] is not None
    assert any(row["pareto"] for row in rows)


def test_comparison_plot_and_table_are_the_files_written(http: TestClient, compared: Path) -> None:
    folder = compared / "_comparisons" / "mnist"
    response = http.get("/v1/datasets/mnist/comparison.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == (folder / "comparison.png").read_bytes()
    assert http.get("/v1/datasets/mnist/comparison").json() == json.loads(
        (folder / "comparison.json").read_text()
    )
    assert "| mnist-cnn |" in (folder / "comparison.md").read_text()


def _separate_median_us(model_dir: Path, artifact: str, rows: np.ndarray) -> float:
    """One-row latency through the server's own runtime classes (app/runtimes)."""
    runtime = LOADERS[artifact_format(artifact)]((model_dir / artifact).read_bytes())
    times = []
    for index in range(300):
        row = rows[index % len(rows)][None, :]
        started = time.perf_counter()
        runtime.run({runtime.input_names[0]: row.astype(np.float32)})
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def test_serving_cost_matches_a_separate_measurement(compared: Path, mnist_dir: Path) -> None:
    from training.compare_command import test_rows

    for dataset in DATASETS:
        rows = test_rows(dataset, mnist_dir)
        document = json.loads((compared / "_comparisons" / dataset / "comparison.json").read_text())
        for row in document["rows"]:
            folder = compared / row["name"] / str(row["version"])
            separate = _separate_median_us(folder, row["artifact"], rows)
            # Within noise on a shared 2-core machine: a factor of 4, or 50 us for tiny models.
            ratio = row["one_row_median_us"] / separate
            assert 0.25 < ratio < 4 or abs(row["one_row_median_us"] - separate) < 50, (
                row,
                separate,
            )


def test_comparison_folder_is_not_a_model(compared: Path) -> None:
    registry = ModelRegistry.load(compared)
    assert not [entry for entry in registry.invalid() if "_comparisons" in entry]
    assert "_comparisons" not in registry.ready()


def test_compare_if_stale_skips_an_unchanged_registry(
    compared: Path, mnist_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (compared / "_comparisons" / "iris" / "comparison.json").read_bytes()
    arguments = ["compare", "--dataset", "iris", "--if-stale", "--registry-dir", str(compared)]
    assert main([*arguments, "--mnist-dir", str(mnist_dir)]) == 0
    assert "iris: comparison up to date" in capsys.readouterr().out
    assert (compared / "_comparisons" / "iris" / "comparison.json").read_bytes() == before


def test_tampered_plot_is_refused_with_503(compared: Path, tmp_path: Path) -> None:
    registry = tmp_path / "models"
    shutil.copytree(compared / "_comparisons", registry / "_comparisons")
    (registry / "_comparisons" / "iris" / "comparison.png").write_bytes(b"\x89PNG not the plot")
    with make_client(registry) as client:
        response = client.get("/v1/datasets/iris/comparison.png")
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "comparison_unavailable"
        assert client.get("/v1/datasets/iris/comparison").status_code == 200


def test_broken_comparison_json_is_a_503_not_a_500(compared: Path, tmp_path: Path) -> None:
    registry = tmp_path / "models"
    (registry / "_comparisons" / "iris").mkdir(parents=True)
    (registry / "_comparisons" / "iris" / "comparison.json").write_text("[1, 2")
    with make_client(registry) as client:
        response = client.get("/v1/datasets/iris/comparison")
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "comparison_unavailable"


def test_symlinked_comparison_is_not_followed(compared: Path, tmp_path: Path) -> None:
    registry = tmp_path / "models"
    (registry / "_comparisons").mkdir(parents=True)
    (registry / "_comparisons" / "iris").symlink_to(compared / "_comparisons" / "iris")
    with make_client(registry) as client:
        assert client.get("/v1/datasets/iris/comparison").status_code == 404


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/v1/datasets/cifar/comparison", 404, "comparison_not_found"),
        ("/v1/datasets/cifar/comparison.png", 404, "comparison_not_found"),
        ("/v1/datasets/MNIST/comparison", 422, "invalid_request"),
        ("/v1/datasets/_comparisons/comparison", 422, "invalid_request"),
    ],
)
def test_bad_dataset_gets_a_clear_error(
    http: TestClient, path: str, status: int, code: str
) -> None:
    response = http.get(path)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_compare_without_models_of_the_dataset_exits_2(tmp_path: Path) -> None:
    arguments = ["compare", "--dataset", "iris", "--registry-dir", str(tmp_path)]
    assert main(arguments) == 2


def test_real_server_serves_the_comparison_and_a_card(compared: Path) -> None:
    server = ServerProcess(compared)
    try:
        server.wait_ready()
        plot = httpx.get(f"{server.base_url}/v1/datasets/mnist/comparison.png")
        assert plot.status_code == 200
        assert plot.content == (compared / "_comparisons" / "mnist" / "comparison.png").read_bytes()
        card = httpx.get(f"{server.base_url}/v1/models/mnist-cnn/versions/1/card")
        assert card.status_code == 200 and card.headers["content-type"].startswith("text/markdown")
        assert "Serving (from the mnist comparison)" in card.text
        assert "Traceback" not in server.output()
    finally:
        server.stop()


def test_registry_written_before_artifacts_were_named_is_compared_and_carded(
    quick_registry: Path, tmp_path: Path
) -> None:
    """An upgrade keeps its registry: versions whose metadata.json names no artifact and has no
    learning curve (as training wrote them before) are compared and get a card, as served."""
    registry = tmp_path / "models"
    for name in ("iris-svm", "iris-knn"):
        shutil.copytree(quick_registry / name / "1", registry / name / "1")
        metadata_file = registry / name / "1" / "metadata.json"
        metadata = json.loads(metadata_file.read_text())
        del metadata["artifact"]
        metadata["metrics"].pop("learning_curve")
        metadata_file.write_text(json.dumps(metadata))
    arguments = ["compare", "--dataset", "iris", "--seconds", "0.2"]
    assert main([*arguments, "--registry-dir", str(registry)]) == 0
    comparison = json.loads((registry / "_comparisons" / "iris" / "comparison.json").read_text())
    assert {row["name"]: row["artifact"] for row in comparison["rows"]} == {
        "iris-svm": "model.onnx",
        "iris-knn": "model.onnx",
    }
    assert all(row["train_error"] is None for row in comparison["rows"])
    with make_client(registry) as client:
        card = client.get(
            "/v1/models/iris-svm/versions/1/card", headers={"Accept": "application/json"}
        )
        assert card.status_code == 200
        assert card.json()["model"]["artifact"] == "model.onnx"
        assert card.json()["cost"]["serving"]["version"] == 1
