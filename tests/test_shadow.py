"""The shadow's work: scored in windows, in a thread of its own at the lowest CPU priority."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest

from app.core.shadow import SHADOW_NICE
from tests.api.test_labels import copy_version
from tests.helpers import IRIS_ROW, make_client
from training import labels


def test_shadow_scores_in_its_own_low_priority_thread(quick_registry: Path, tmp_path: Path) -> None:
    registry = tmp_path / "models"
    shutil.copytree(quick_registry / "iris-svm", registry / "iris-svm")
    copy_version(registry, "iris-svm", 1, 2)
    target = {"version": 1, "shadow": {"version": 2, "fraction": 1.0}}
    labels.change(registry / "iris-svm", "production", target, "test")
    with make_client(registry) as client:
        for _ in range(20):
            response = client.post("/v1/models/iris-svm/predict", json={"instances": [IRIS_ROW]})
            assert response.headers["x-model-version"] == "1"
        deadline = time.monotonic() + 5
        while client.get("/v1/models/iris-svm").json()["shadow"][0]["rows_compared"] < 20:
            assert time.monotonic() < deadline, "the shadow never scored the rows"
            time.sleep(0.02)
        [shadow] = client.get("/v1/models/iris-svm").json()["shadow"]
        assert shadow["agreement"] == 1.0 and shadow["dropped"] == 0
        threads = [t for t in threading.enumerate() if t.name.startswith("shadow")]
        assert len(threads) == 1  # one thread, whatever the number of comparisons
        if sys.platform != "linux":
            pytest.skip("per-thread CPU priority is Linux's")
        native_id = threads[0].native_id
        assert native_id is not None
        assert os.getpriority(os.PRIO_PROCESS, native_id) == SHADOW_NICE
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < SHADOW_NICE
