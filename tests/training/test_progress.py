from __future__ import annotations

import json
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
