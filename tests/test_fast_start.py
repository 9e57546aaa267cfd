"""`make serve` on a fresh registry: the Iris models first, the server answering while the MNIST
models are still being trained, and Ctrl-C stopping everything (modelserve_cli/serve.py), in
quick mode (tiny data) so that it fits the suite."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx

from tests.helpers import IRIS_ROW, REPO, free_port

WAIT_SECONDS = 600  # a hang guard, not a target: on 2 busy cores quick Iris takes ~30-60 s


def test_make_serve_runs_the_fast_start_on_this_machine_only() -> None:
    makefile = (REPO / "Makefile").read_text()
    recipe = re.search(r"^serve: .*\n\t(.+)$", makefile, re.MULTILINE)
    assert recipe is not None
    assert recipe.group(1).endswith("modelserve serve --train-missing")
    assert re.search(r"^HOST \?= 127\.0\.0\.1$", makefile, re.MULTILINE)


def _ready(url: str) -> dict[str, object] | None:
    try:
        response = httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 200 else None  # type: ignore[no-any-return]


def test_the_server_answers_while_mnist_trains_and_ctrl_c_stops_it_all(
    tmp_path: Path, mnist_dir: Path
) -> None:
    registry, port = tmp_path / "models", free_port()
    environment = {
        **os.environ,
        "SERVING_MODELS_DIR": str(registry),
        "SERVING_PORT": str(port),
        "MNIST_DIR": str(mnist_dir),
    }
    command = [sys.executable, "-m", "modelserve_cli", "serve", "--train-missing", "--quick"]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, as a terminal gives `make serve`
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        ready: dict[str, object] | None = None
        while time.monotonic() < deadline and process.poll() is None:
            ready = _ready(f"{base}/health/ready")
            if ready is not None and ready.get("training"):
                break
            time.sleep(0.2)
        assert ready is not None and ready.get("training"), ready
        # The Iris models are served while the MNIST ones are still being trained.
        assert all(str(name).startswith("mnist-") for name in ready["training"])  # type: ignore[attr-defined]
        answer = httpx.post(
            f"{base}/v1/models/iris-svm/predict", json={"instances": [IRIS_ROW]}, timeout=10
        )
        assert answer.status_code == 200 and answer.json()["predictions"][0]["label"] == "setosa"
        marker = json.loads((registry / ".training.json").read_text())
        assert marker["training"]
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C, to the whole group
        status = process.wait(timeout=120)
    assert status == 0
    assert not (registry / ".training.json").exists()  # the trainer ended, and said so
    assert _group_ends(process.pid), "a process of the group outlived Ctrl-C"


def _group_ends(group: int) -> bool:
    """Whether every process of the group is gone within a while (the server's compute
    workers end when it closes their pipes, just after it exits)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False
