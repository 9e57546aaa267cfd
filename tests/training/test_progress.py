from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from training.progress import MARKER, tracked


def test_the_marker_lists_what_is_left_and_goes_when_the_run_ends(tmp_path: Path) -> None:
    with tracked(tmp_path, ["iris-svm", "iris-knn"]) as progress:
        assert json.loads((tmp_path / MARKER).read_text())["training"] == ["iris-svm", "iris-knn"]
        progress.landed("iris-svm")
        assert json.loads((tmp_path / MARKER).read_text())["training"] == ["iris-knn"]
    assert sorted(path.name for path in tmp_path.iterdir()) == []


def test_the_marker_goes_when_the_run_fails(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), tracked(tmp_path, ["iris-svm"]):
        raise KeyboardInterrupt
    assert not (tmp_path / MARKER).exists()


def test_a_run_stopped_with_sigterm_removes_its_marker(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "training", "--registry-dir", str(tmp_path), "--quick"]
    run = subprocess.Popen([*command, "--dataset", "iris"], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300  # a hang guard: the marker comes after the imports
        while not (tmp_path / MARKER).exists() and run.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        run.send_signal(signal.SIGTERM)
    finally:
        status = run.wait(timeout=120)
    assert status == 128 + signal.SIGTERM
    assert not (tmp_path / MARKER).exists()


def test_no_marker_creates_a_registry_folder(tmp_path: Path) -> None:
    with tracked(tmp_path / "models", ["iris-svm"]) as progress:
        assert not (tmp_path / "models").exists()
        (tmp_path / "models").mkdir()  # the first model's version is published
        progress.landed("iris-svm")
        assert (tmp_path / "models" / MARKER).exists()
    assert list((tmp_path / "models").iterdir()) == []
