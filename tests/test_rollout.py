"""Rolling out a new version on a real server re-scanning a real registry: promote and
rollback followed within a scan, a label flip under load, canary weights and stickiness,
shadow agreement and its bounded queue."""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.api.test_labels import copy_version
from tests.helpers import IRIS_ROW, ServerProcess, mnist_digits
from training import labels
from training.__main__ import main as training

ROW = {"instances": [IRIS_ROW]}
SCAN = "0.2"


@pytest.fixture
def server(iris_registry: Path) -> Iterator[ServerProcess]:
    copy_version(iris_registry, "iris-svm", 1, 2)
    process = ServerProcess(iris_registry, reload_interval_seconds=SCAN)
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def version(client: httpx.Client, path: str = "/v1/models/iris-svm/predict", **kw: object) -> str:
    response = client.post(path, json=ROW, **kw)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return response.headers["x-model-version"]


def until(check: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.05)


def test_promote_and_rollback_are_followed_within_a_scan(
    server: ServerProcess, iris_registry: Path
) -> None:
    registry = str(iris_registry)
    with httpx.Client(base_url=server.base_url) as client:
        assert version(client) == "2"  # no labels: the newest
        assert training(["promote", "iris-svm", "1", "--registry-dir", registry]) == 0
        started = time.monotonic()
        until(lambda: version(client) == "1")
        assert time.monotonic() - started < 1.0  # a scan every 0.2 s
        assert training(["promote", "iris-svm", "2", "--registry-dir", registry]) == 0
        until(lambda: version(client) == "2")
        assert training(["rollback", "iris-svm", "--registry-dir", registry]) == 0
        until(lambda: version(client) == "1")
        info = client.get("/v1/models/iris-svm").json()
        assert info["labels"] == {"production": {"version": 1}} and info["version"] == 1


def test_a_label_flip_under_load_loses_no_request(
    server: ServerProcess, iris_registry: Path
) -> None:
    seen: Counter[tuple[int, str]] = Counter()
    stop = threading.Event()

    def hammer() -> None:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            while not stop.is_set():
                response = client.post("/v1/models/iris-svm/predict", json=ROW)
                seen[(response.status_code, response.headers.get("x-model-version", ""))] += 1

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for flip in range(6):
            labels.change(iris_registry / "iris-svm", "production", {"version": 1 + flip % 2}, "t")
            time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert {status for status, _ in seen} == {200}, seen
    assert {answer for _, answer in seen} == {"1", "2"}, seen
    assert seen[(200, "1")] > 20 and seen[(200, "2")] > 20


def test_canary_weight_holds_and_a_request_key_is_sticky(
    server: ServerProcess, iris_registry: Path
) -> None:
    target = {"version": 1, "canary": {"version": 2, "weight": 0.2}}
    labels.change(iris_registry / "iris-svm", "production", target, "test")
    with httpx.Client(base_url=server.base_url) as client:
        until(
            lambda: client.get("/v1/models/iris-svm").json()["labels"].get("production") == target
        )
        answers = Counter(version(client) for _ in range(2000))
        share = answers["2"] / 2000
        # Binomial: sd = sqrt(0.2 x 0.8 / 2000) = 0.009; 4 sd either side.
        assert abs(share - 0.2) < 0.036, answers
        sides = {}
        for key in range(60):
            headers = {"X-Request-Key": f"user-{key}"}
            answered = {version(client, headers=headers) for _ in range(5)}
            assert len(answered) == 1, (key, answered)  # one user, one model
            sides[key] = answered.pop()
        assert set(sides.values()) == {"1", "2"}  # both sides have users


def test_shadow_agreement_is_reported(server: ServerProcess, iris_registry: Path) -> None:
    target = {"version": 1, "shadow": {"version": 2, "fraction": 1.0}}
    labels.change(iris_registry / "iris-svm", "production", target, "test")
    with httpx.Client(base_url=server.base_url) as client:
        until(
            lambda: client.get("/v1/models/iris-svm").json()["labels"].get("production") == target
        )
        rows = [IRIS_ROW, [6.7, 3.0, 5.2, 2.3], [5.9, 2.8, 4.3, 1.3]]
        for _ in range(40):
            response = client.post("/v1/models/iris-svm/predict", json={"instances": rows})
            assert response.headers["x-model-version"] == "1"

        def compared() -> bool:
            shadow = client.get("/v1/models/iris-svm").json()["shadow"]
            return bool(shadow) and shadow[0]["rows_compared"] == 120

        until(compared)
        [shadow] = client.get("/v1/models/iris-svm").json()["shadow"]
        # Version 2 is a copy of version 1: they always agree.
        assert shadow == {
            "version": 1,
            "shadow_version": 2,
            "rows_compared": 120,
            "agreement": 1.0,
            "mean_abs_probability_diff": 0.0,
            "dropped": 0,
            "failed": 0,
        }
        text = client.get("/metrics").text
        assert (
            'serving_shadow_rows_total{model="iris-svm",outcome="agree",shadow_version="2",'
            'version="1"} 120.0' in text
        )


def test_the_shadow_queue_is_bounded(quick_registry: Path, tmp_path: Path, mnist_dir: Path) -> None:
    """A budget of 32 queued rows: a 16-row request is compared, a 64-row one can never fit
    and is dropped (and counted); a burst of 16-row requests is compared or dropped, every row
    accounted for, while the answers come from the production version."""
    registry = tmp_path / "models"
    shutil.copytree(quick_registry / "mnist-knn", registry / "mnist-knn")
    copy_version(registry, "mnist-knn", 1, 2)
    target = {"version": 1, "shadow": {"version": 2, "fraction": 1.0}}
    labels.change(registry / "mnist-knn", "production", target, "test")
    process = ServerProcess(registry, reload_interval_seconds="0", shadow_queue_rows="32")
    images, _ = mnist_digits(mnist_dir, 64)
    rows = images.reshape(64, -1).tolist()
    path = "/v1/models/mnist-knn/predict"
    try:
        process.wait_ready()
        with httpx.Client(base_url=process.base_url, timeout=30) as client:

            def shadow() -> dict[str, int]:
                [found] = client.get("/v1/models/mnist-knn").json()["shadow"]
                return found  # type: ignore[no-any-return]

            assert client.post(path, json={"instances": rows[:16]}).status_code == 200
            until(lambda: client.get("/v1/models/mnist-knn").json()["shadow"] != [])
            until(lambda: shadow()["rows_compared"] == 16)
            assert client.post(path, json={"instances": rows}).status_code == 200
            until(lambda: shadow()["dropped"] == 1)
            assert shadow()["rows_compared"] == 16

            def burst() -> None:
                with httpx.Client(base_url=process.base_url, timeout=30) as own:
                    response = own.post(path, json={"instances": rows[:16]})
                    assert response.headers["x-model-version"] == "1"

            threads = [threading.Thread(target=burst) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            # 16 + 8 x 16 rows compared or dropped; the 64-row request dropped.
            until(lambda: shadow()["rows_compared"] + 16 * (shadow()["dropped"] - 1) == 144)
            assert shadow()["agreement"] == 1.0
            text = client.get("/metrics").text
            dropped = next(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("serving_shadow_rows_total") and 'outcome="dropped"' in line
            )
            assert dropped == 64 + 16 * (shadow()["dropped"] - 1)
    finally:
        process.stop()
