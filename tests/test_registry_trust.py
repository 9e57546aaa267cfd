"""What a registry folder can make the server do: a real server re-scanning a real registry
while it is changed under it, one test per way of tampering with it."""

from __future__ import annotations

import ctypes
import json
import os
import pickle
import shutil
import struct
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.helpers import IRIS_ROW, ServerProcess
from training.registry_writer import file_digest

TOKEN = "trust-token"


class Payload:
    """A pickle that runs a shell command when it is loaded: it leaves `marker` behind."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def registry(quick_registry: Path, tmp_path: Path) -> Path:
    """The quick Iris models and mnist-cnn and mnist-mlp, copied: free to tamper with."""
    registry = tmp_path / "models"
    for name in ("iris-svm", "iris-knn", "iris-naive-bayes", "mnist-cnn", "mnist-mlp"):
        shutil.copytree(quick_registry / name, registry / name)
    return registry


@pytest.fixture
def start(registry: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Starts `python -m app` over the registry, re-scanning it every 0.2 s."""
    servers: list[ServerProcess] = []

    def start(**settings: str) -> ServerProcess:
        options = {"reload_interval_seconds": "0.2", "admin_token": TOKEN, "compute_workers": "1"}
        server = ServerProcess(registry, **{**options, **settings})
        servers.append(server)
        server.wait_ready()
        return server

    yield start
    for server in servers:
        server.stop()


def evil_pickle(tmp_path: Path) -> tuple[Path, Path]:
    """A pickle that would leave `marker` behind if it were ever loaded, and that marker."""
    marker = tmp_path / "code-ran"
    evil = tmp_path / "evil.joblib"
    evil.write_bytes(pickle.dumps(Payload(marker)))
    return evil, marker


def copy_version(source: Path, target: Path, **changes: Any) -> Path:
    """A copy of a version folder, its metadata.json changed (version number first)."""
    shutil.copytree(source, target)
    metadata = json.loads((target / "metadata.json").read_text())
    version = int(target.name) if target.name.isascii() and target.name.isdigit() else 1
    metadata.update({"version": version, **changes})
    (target / "metadata.json").write_text(json.dumps(metadata))
    return target


def relist(folder: Path, **files: Path | None) -> None:
    """Put each file (None: remove it) in `folder` and record its checksum in metadata.json."""
    metadata = json.loads((folder / "metadata.json").read_text())
    for name, source in files.items():
        file_name = name.replace("_", ".")
        if source is None:
            (folder / file_name).unlink(missing_ok=True)
            metadata["files"].pop(file_name, None)
            continue
        shutil.copyfile(source, folder / file_name)
        metadata["files"][file_name] = file_digest(folder / file_name)
    (folder / "metadata.json").write_text(json.dumps(metadata))


def ready(server: ServerProcess) -> dict[str, Any]:
    response = httpx.get(f"{server.base_url}/health/ready", timeout=5)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_for(check: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the server did not get there in time")
        time.sleep(0.1)


def failed_reason(server: ServerProcess, key: str) -> str | None:
    for line in ready(server)["failed"]:
        if line.startswith(f"{key}: "):
            return str(line[len(key) + 2 :])
    return None


def served_version(server: ServerProcess, name: str) -> int:
    response = httpx.post(
        f"{server.base_url}/v1/models/{name}/predict", json={"instances": [IRIS_ROW]}, timeout=10
    )
    assert response.status_code == 200, response.text
    return int(response.headers["x-model-version"])


def test_no_pickle_runs_unlisted_tampered_or_without_the_opt_in(
    registry: Path, start: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    evil, marker = evil_pickle(tmp_path)
    server = start()
    # Unlisted: metadata.json lists no artifact at all; the pickle lies beside it.
    unlisted = copy_version(registry / "iris-svm" / "1", tmp_path / "2", artifact=None)
    relist(unlisted, model_onnx=None, model_joblib=None)
    shutil.copyfile(evil, unlisted / "model.joblib")
    shutil.move(unlisted, registry / "iris-svm" / "2")
    # Listed with its true checksum and named as the artifact: still a pickle, and off.
    listed = copy_version(
        registry / "iris-knn" / "1", tmp_path / "knn" / "2", artifact="model.joblib"
    )
    relist(listed, model_onnx=None, model_joblib=evil)
    shutil.move(listed, registry / "iris-knn" / "2")
    # Listed, then replaced after its checksum was written.
    tampered = copy_version(registry / "iris-naive-bayes" / "1", tmp_path / "nb" / "2")
    relist(tampered, model_joblib=evil)
    (tampered / "model.onnx").write_bytes(pickle.dumps(Payload(marker)))
    shutil.move(tampered, registry / "iris-naive-bayes" / "2")

    wait_for(lambda: len(ready(server)["failed"]) == 3)
    assert failed_reason(server, "iris-svm/2") == (
        "metadata.json names no artifact and lists none the server can load"
    )
    assert failed_reason(server, "iris-knn/2") == (
        "model.joblib is a pickle, which runs code when loaded: it is loaded only with "
        "SERVING_ALLOW_PICKLE=true"
    )
    assert failed_reason(server, "iris-naive-bayes/2") == (
        "model.onnx does not match its recorded SHA-256 checksum"
    )
    assert [served_version(server, n) for n in ("iris-svm", "iris-knn", "iris-naive-bayes")] == [
        1,
        1,
        1,
    ]
    assert not marker.exists()


def test_the_pickle_opt_in_loads_listed_pickles(
    registry: Path, start: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    # The same listed pickle as above: with the opt-in it is unpickled, so the marker shows
    # the test above would have seen code run.
    evil, marker = evil_pickle(tmp_path)
    server = start(allow_pickle="true")
    listed = copy_version(registry / "iris-knn" / "1", tmp_path / "2", artifact="model.joblib")
    relist(listed, model_onnx=None, model_joblib=evil)
    shutil.move(listed, registry / "iris-knn" / "2")
    # A real scikit-learn pickle is served with the opt-in.
    real = copy_version(
        registry / "iris-svm" / "1", tmp_path / "svm" / "2", artifact="model.joblib"
    )
    shutil.move(real, registry / "iris-svm" / "2")
    wait_for(lambda: served_version(server, "iris-svm") == 2)
    wait_for(lambda: failed_reason(server, "iris-knn/2") is not None)
    assert marker.exists()


def test_a_keras_version_never_serves_an_unlisted_tflite(
    registry: Path, start: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = start()
    stray = registry / "mnist-mlp" / "1" / "model.tflite"
    # Legacy metadata (no artifact named) that lists no model.tflite, another model's beside it.
    legacy = copy_version(registry / "mnist-cnn" / "1", tmp_path / "2", artifact=None)
    relist(legacy, model_tflite=None)
    shutil.copyfile(stray, legacy / "model.tflite")
    shutil.move(legacy, registry / "mnist-cnn" / "2")
    # The artifact named, but its checksum not listed.
    named = copy_version(registry / "mnist-cnn" / "1", tmp_path / "3", artifact="model.tflite")
    relist(named, model_tflite=None)
    shutil.copyfile(stray, named / "model.tflite")
    shutil.move(named, registry / "mnist-cnn" / "3")
    wait_for(lambda: len(ready(server)["failed"]) == 2)
    assert failed_reason(server, "mnist-cnn/2") == (
        "metadata.json names no artifact and lists none the server can load"
    )
    assert failed_reason(server, "mnist-cnn/3") == (
        "metadata.json names the artifact 'model.tflite' but lists no checksum for it"
    )
    model = httpx.get(f"{server.base_url}/v1/models/mnist-cnn").json()
    assert (model["version"], model["algorithm"]) == (1, "cnn")


def test_symlinked_version_and_model_folders_are_not_served(
    registry: Path, start: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = start()
    outside = tmp_path / "outside"
    copy_version(registry / "iris-svm" / "1", outside / "iris-svm-2" / "2")
    (registry / "iris-svm" / "2").symlink_to(outside / "iris-svm-2" / "2")
    copy_version(registry / "iris-knn" / "1", outside / "iris-linked" / "1", name="iris-linked")
    (registry / "iris-linked").symlink_to(outside / "iris-linked")
    wait_for(lambda: len(ready(server)["invalid"]) == 2)
    assert sorted(ready(server)["invalid"]) == [
        "'iris-linked': a symbolic link (set SERVING_ALLOW_SYMLINKS=true to follow links)",
        "iris-svm/'2': a symbolic link (set SERVING_ALLOW_SYMLINKS=true to follow links)",
    ]
    assert served_version(server, "iris-svm") == 1
    assert httpx.get(f"{server.base_url}/v1/models/iris-linked").status_code == 404


def test_allowed_symlinks_must_resolve_inside_the_registry(
    registry: Path, start: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = start(allow_symlinks="true")
    copy_version(registry / "iris-svm" / "1", registry / ".shelf" / "2")
    (registry / "iris-svm" / "2").symlink_to(registry / ".shelf" / "2")
    copy_version(registry / "iris-knn" / "1", tmp_path / "outside" / "2")
    (registry / "iris-knn" / "2").symlink_to(tmp_path / "outside" / "2")
    wait_for(lambda: served_version(server, "iris-svm") == 2)
    wait_for(lambda: bool(ready(server)["invalid"]))
    assert ready(server)["invalid"] == [
        "iris-knn/'2': a symbolic link to a folder outside the registry"
    ]
    assert served_version(server, "iris-knn") == 1


def test_odd_version_names_are_reported_and_never_stop_a_scan_or_a_start(
    registry: Path, start: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    (registry / "iris-svm" / "\u00b2").mkdir()  # '²': str.isdigit() is true, int() fails
    # Impostors that int() reads as 1: another model's files, metadata saying iris-svm 1.
    for name in ("01", "\u0661", "\uff11"):  # '01', Arabic-Indic one, full-width one
        copy_version(registry / "iris-knn" / "1", registry / "iris-svm" / name, name="iris-svm")
    server = start()  # a restart with them there: it starts
    invalid = ready(server)["invalid"]
    assert len(invalid) == 4 and all("not a version number" in line for line in invalid)
    model = httpx.get(f"{server.base_url}/v1/models/iris-svm/versions/1").json()
    assert model["algorithm"] == "svm"
    # The scan carries on past them: a new version is loaded, and admin reload answers.
    copy_version(registry / "iris-svm" / "1", tmp_path / "2")
    shutil.move(tmp_path / "2", registry / "iris-svm" / "2")
    wait_for(lambda: served_version(server, "iris-svm") == 2)
    reload = httpx.post(
        f"{server.base_url}/v1/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert reload.status_code == 200 and len(reload.json()["invalid"]) == 4
    assert "Traceback" not in server.output()


def test_a_version_completed_after_a_failed_scan_is_served(
    registry: Path, start: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = start()
    source = copy_version(registry / "iris-svm" / "1", tmp_path / "2")
    # A copy in progress: metadata.json first, the other files seconds later.
    target = registry / "iris-svm" / "2"
    target.mkdir()
    shutil.copy2(source / "metadata.json", target / "metadata.json")
    wait_for(lambda: failed_reason(server, "iris-svm/2") is not None)
    assert "is missing" in str(failed_reason(server, "iris-svm/2"))
    time.sleep(0.5)  # a few more scans: the failure stands while nothing changes
    for file in source.iterdir():
        shutil.copy2(file, target / file.name)  # copy2 keeps the old modification times
    wait_for(lambda: served_version(server, "iris-svm") == 2)
    assert failed_reason(server, "iris-svm/2") is None


def _opened_files(watch: int) -> Counter[str]:
    """Names of the files opened in the watched folder since the last call (inotify events)."""
    opened: Counter[str] = Counter()
    while True:
        try:
            data = os.read(watch, 65536)
        except BlockingIOError:
            return opened
        offset = 0
        while offset < len(data):
            _, mask, _, length = struct.unpack_from("iIII", data, offset)
            name = data[offset + 16 : offset + 16 + length].rstrip(b"\0").decode()
            if mask & IN_OPEN and name:  # no name: the folder itself (a listing)
                opened[name] += 1
            offset += 16 + length


IN_OPEN = 0x20


def test_each_listed_file_is_opened_once_and_an_unlisted_one_never(
    registry: Path, start: Callable[..., ServerProcess]
) -> None:
    # Opened once: the bytes hashed are the bytes deserialised, with no second open in which
    # the file could have been swapped.
    folder = registry / "mnist-cnn" / "1"
    shutil.copyfile(registry / "mnist-mlp" / "1" / "model.tflite", folder / "other.tflite")
    listed = json.loads((folder / "metadata.json").read_text())["files"]
    libc = ctypes.CDLL(None, use_errno=True)
    watch = libc.inotify_init1(os.O_NONBLOCK)
    assert watch >= 0 and libc.inotify_add_watch(watch, str(folder).encode(), IN_OPEN) >= 0
    try:
        server = start()
        time.sleep(1)  # a few periodic re-scans
        opened = _opened_files(watch)
        assert opened == Counter({"metadata.json": 1, **dict.fromkeys(listed, 1)})
        assert httpx.get(f"{server.base_url}/v1/models/mnist-cnn").json()["version"] == 1
    finally:
        os.close(watch)


def test_a_plot_replaced_by_a_link_or_rewritten_is_not_served(
    start: Callable[..., ServerProcess], registry: Path
) -> None:
    server = start(reload_interval_seconds="0")  # the version stays loaded as it was
    plots = f"{server.base_url}/v1/models/iris-svm/versions/1/plots"
    assert httpx.get(f"{plots}/confusion_matrix.png", timeout=10).status_code == 200
    folder = registry / "iris-svm" / "1"
    (folder / "confusion_matrix.png").unlink()
    (folder / "confusion_matrix.png").symlink_to("/etc/os-release")
    (folder / "decision_regions.png").write_bytes(b"\x89PNG not the plot that was trained")
    for plot in ("confusion_matrix", "decision_regions"):
        response = httpx.get(f"{plots}/{plot}.png", timeout=10)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "plot_not_found"
        assert b"NAME=" not in response.content
    log = server.output()
    assert "not serving confusion_matrix.png of iris-svm version 1" in log
    assert "not serving decision_regions.png of iris-svm version 1" in log
