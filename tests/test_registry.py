"""Loading, verifying and refreshing the registry folder."""

from __future__ import annotations

import gc
import json
import os
import shutil
import time
import weakref
from pathlib import Path

from app.registry.memory import settle_after_load
from app.registry.registry import ModelRegistry
from tests.helpers import IRIS_ROW, make_client
from training.__main__ import NOT_PROMOTED
from training.__main__ import main as train


def _add_version(registry: Path, name: str) -> Path:
    """Publish a real new version with the training CLI."""
    assert train(["--quick", "--model", name, "--registry-dir", str(registry)]) == NOT_PROMOTED
    return (
        registry
        / name
        / str(max(int(p.name) for p in (registry / name).iterdir() if p.name.isdigit()))
    )


def _rewrite_metadata(folder: Path, **changes: object) -> None:
    path = folder / "metadata.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def test_every_version_is_loaded_and_latest_is_highest(iris_registry: Path) -> None:
    _add_version(iris_registry, "iris-svm")
    registry = ModelRegistry.load(iris_registry)
    assert sorted(registry.ready()["iris-svm"]) == [1, 2]
    assert registry.get("iris-svm").metadata.version == 2
    assert registry.get("iris-svm", 1).metadata.version == 1


def test_corrupted_artifact_is_refused_and_older_version_serves(iris_registry: Path) -> None:
    new = _add_version(iris_registry, "iris-knn")
    with (new / "model.joblib").open("r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00\x01\x02")
    registry = ModelRegistry.load(iris_registry)
    assert registry.get("iris-knn").metadata.version == 1
    [broken] = registry.broken()
    assert (broken.name, broken.version) == ("iris-knn", 2)
    assert "model.joblib does not match its recorded SHA-256" in broken.reason


def test_missing_or_invalid_metadata_and_unloadable_artifact_are_reported(
    iris_registry: Path,
) -> None:
    (iris_registry / "iris-svm" / "1" / "metadata.json").unlink()
    _rewrite_metadata(iris_registry / "iris-knn" / "1", class_labels="not a list")
    # Artifacts that match their checksums but are neither a joblib pickle nor an ONNX model.
    folder = iris_registry / "iris-decision-tree" / "1"
    metadata = json.loads((folder / "metadata.json").read_text())
    from training.registry_writer import file_digest

    for artifact in ("model.joblib", "model.onnx"):
        (folder / artifact).write_bytes(b"garbage")
        metadata["files"][artifact] = file_digest(folder / artifact)
    (folder / "metadata.json").write_text(json.dumps(metadata))
    registry = ModelRegistry.load(iris_registry)
    reasons = {b.name: b.reason for b in registry.broken()}
    assert reasons["iris-svm"] == "metadata.json is missing"
    assert reasons["iris-knn"].startswith("metadata.json is invalid: class_labels")
    assert reasons["iris-decision-tree"].startswith("artifact failed to load")
    assert set(registry.ready()) == {
        "iris-logistic-regression",
        "iris-random-forest",
        "iris-naive-bayes",
    }


def test_unreadable_version_is_reported_and_the_others_serve(iris_registry: Path) -> None:
    # A folder in place of metadata.json: unreadable for root too, like a private folder for others.
    metadata = iris_registry / "iris-svm" / "1" / "metadata.json"
    metadata.unlink()
    metadata.mkdir()
    registry = ModelRegistry.load(iris_registry)
    [broken] = registry.broken()
    assert (broken.name, broken.version) == ("iris-svm", 1)
    assert broken.reason == "a file cannot be read (Is a directory)"  # no path for clients
    assert registry.get("iris-knn").metadata.version == 1


def test_staging_folders_and_stray_files_are_ignored(iris_registry: Path) -> None:
    shutil.copytree(iris_registry / "iris-svm" / "1", iris_registry / "iris-svm" / ".staging-x")
    (iris_registry / "README.md").write_text("hello")
    (iris_registry / "Not_A_Model").mkdir()
    registry = ModelRegistry.load(iris_registry)
    assert sorted(registry.ready()["iris-svm"]) == [1]
    assert registry.broken() == []


def test_metadata_naming_another_model_is_refused(iris_registry: Path) -> None:
    _rewrite_metadata(iris_registry / "iris-svm" / "1", name="iris-knn")
    [broken] = ModelRegistry.load(iris_registry).broken()
    assert "metadata.json says iris-knn version 1, folder is iris-svm/1" in broken.reason


def test_file_names_outside_the_version_folder_are_refused(iris_registry: Path) -> None:
    folder = iris_registry / "iris-svm" / "1"
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["files"]["../../secret"] = metadata["files"]["model.joblib"]
    (folder / "metadata.json").write_text(json.dumps(metadata))
    [broken] = ModelRegistry.load(iris_registry).broken()
    assert "invalid file name '../../secret'" in broken.reason


def test_broken_new_version_never_replaces_working_one_over_http(iris_registry: Path) -> None:
    with make_client(iris_registry, admin_token="s3cret") as client:
        new = _add_version(iris_registry, "iris-svm")
        (new / "model.joblib").write_bytes(b"tampered")
        response = client.post("/v1/admin/reload", headers={"Authorization": "Bearer s3cret"})
        assert response.status_code == 200
        assert response.json()["failed"][0].startswith("iris-svm/2: model.joblib")
        predict = client.post("/v1/models/iris-svm/predict", json={"instances": [IRIS_ROW]})
        assert predict.headers["x-model-version"] == "1"
        [svm] = [m for m in client.get("/v1/models").json()["models"] if m["name"] == "iris-svm"]
        assert svm["status"] == "ready" and svm["latest_version"] == 1
        assert svm["failed_versions"][0]["version"] == 2
        failed = client.get("/v1/models/iris-svm/versions/2")
        assert failed.status_code == 503 and failed.json()["error"]["code"] == "model_unavailable"


def test_new_version_is_picked_up_by_the_periodic_rescan(iris_registry: Path) -> None:
    with make_client(iris_registry, reload_interval_seconds=0.1) as client:
        _add_version(iris_registry, "iris-naive-bayes")
        deadline = time.monotonic() + 10
        version = "1"
        while version != "2" and time.monotonic() < deadline:
            time.sleep(0.1)
            response = client.post(
                "/v1/models/iris-naive-bayes/predict", json={"instances": [IRIS_ROW]}
            )
            version = response.headers["x-model-version"]
        assert version == "2"


def test_removed_version_is_dropped_on_reload(iris_registry: Path) -> None:
    new = _add_version(iris_registry, "iris-svm")
    registry = ModelRegistry.load(iris_registry)
    shutil.rmtree(new)
    assert registry.refresh().removed == ["iris-svm/2"]
    assert registry.get("iris-svm").metadata.version == 1


def test_symlinked_files_are_refused_or_followed_only_inside_the_registry(
    iris_registry: Path, tmp_path: Path
) -> None:
    artifact = iris_registry / "iris-svm" / "1" / "model.onnx"
    outside = tmp_path / "elsewhere.onnx"
    artifact.rename(outside)
    artifact.symlink_to(outside)  # same bytes, same checksum, but not in the registry
    [broken] = ModelRegistry.load(iris_registry).broken()
    assert broken.reason == (
        "model.onnx is a symbolic link (set SERVING_ALLOW_SYMLINKS=true to follow links)"
    )
    following = ModelRegistry(iris_registry, allow_symlinks=True)
    following.refresh()
    [broken] = following.broken()
    assert broken.reason == "model.onnx lies outside the registry folder"
    shelf = iris_registry / ".shelf"
    shelf.mkdir()
    artifact.unlink()
    artifact.symlink_to(outside.rename(shelf / "model.onnx"))
    assert following.refresh(retry_failed=True).loaded == ["iris-svm/1"]


def test_a_loop_of_symbolic_links_is_reported_not_raised(iris_registry: Path) -> None:
    (iris_registry / "iris-svm" / "2").symlink_to(iris_registry / "iris-svm" / "2")
    (iris_registry / "iris-knn" / "1" / "model.onnx").unlink()
    (iris_registry / "iris-knn" / "1" / "model.onnx").symlink_to("model.onnx")
    registry = ModelRegistry(iris_registry, allow_symlinks=True)
    registry.refresh()
    assert registry.invalid() == ["iris-svm/'2': a symbolic link to a folder outside the registry"]
    assert [b.reason for b in registry.broken()] == ["model.onnx lies outside the registry folder"]


def test_a_listed_file_that_is_not_a_regular_file_is_refused_without_blocking(
    iris_registry: Path,
) -> None:
    artifact = iris_registry / "iris-svm" / "1" / "model.onnx"
    artifact.unlink()
    os.mkfifo(artifact)  # opening a FIFO for reading would wait for a writer
    [broken] = ModelRegistry.load(iris_registry).broken()
    assert broken.reason == "model.onnx is not a regular file"


def test_a_failed_version_is_retried_when_a_file_changes_or_when_asked(
    iris_registry: Path,
) -> None:
    artifact = iris_registry / "iris-svm" / "1" / "model.onnx"
    content = artifact.read_bytes()
    artifact.write_bytes(b"half-copied")
    registry = ModelRegistry.load(iris_registry)
    assert [b.name for b in registry.broken()] == ["iris-svm"]
    assert registry.refresh().failed == []  # nothing changed: not tried again
    retried = registry.refresh(retry_failed=True).failed  # admin reload: tried again
    assert retried == ["iris-svm/1: model.onnx does not match its recorded SHA-256 checksum"]
    artifact.write_bytes(content)  # the copy completes; metadata.json untouched
    assert registry.refresh().loaded == ["iris-svm/1"]


def test_an_unexpected_error_fails_the_version_never_the_scan(iris_registry: Path) -> None:
    folder = iris_registry / "iris-svm" / "1"
    # Checksums right, artifact named, but a runtime finds nothing to load in it.
    _rewrite_metadata(folder, artifact="confusion_matrix.png")
    registry = ModelRegistry.load(iris_registry)
    [broken] = registry.broken()
    assert broken.reason == "no runtime loads the artifact 'confusion_matrix.png'"
    assert len(registry.ready()) == 5


def test_settling_after_a_reload_collects_cycles_frozen_by_an_earlier_one() -> None:
    class Node:
        pass

    cycle = Node()
    cycle.self = cycle  # type: ignore[attr-defined]
    alive = weakref.ref(cycle)
    settle_after_load()  # frozen: out of the collector's reach
    del cycle
    gc.collect()
    assert alive() is not None
    settle_after_load()  # the next reload thaws it first
    assert alive() is None
