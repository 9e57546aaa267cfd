from __future__ import annotations

from pathlib import Path

import pytest

from training.__main__ import main
from training.datasets import mnist


def test_configured_folder_missing_files_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    with pytest.raises(mnist.MnistNotFoundError, match="MNIST_DIR"):
        mnist.locate()


def test_nothing_found_and_download_failing_gives_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # no data/mnist/ here
    monkeypatch.setattr(mnist, "MIRROR", "http://127.0.0.1:9/")  # a closed local port
    code = main(["--model", "mnist-naive-bayes", "--registry-dir", str(tmp_path / "models")])
    assert code == 1
    error = capsys.readouterr().err
    assert "MNIST_DIR" in error and "downloading them failed" in error
    assert not (tmp_path / "models").exists()


def test_environment_variable_is_used(mnist_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    assert mnist.locate() == mnist_dir
