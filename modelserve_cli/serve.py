"""modelserve serve: the server (python -m app); with --train-missing, what `make serve` runs:
the missing Iris models first (seconds), the server as soon as they are there, then the missing
MNIST models and the comparisons in the background while it serves. Ctrl-C stops them all."""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from app.settings import Settings
from training import progress

# Exit status of python -m training when the gate kept a version from production: the version
# is published, and served (unpinned requests go to the newest when there is no production).
NOT_PROMOTED = 3
READY_WAIT_SECONDS = 120.0
CHECKOUT = Path(__file__).resolve().parent.parent  # make serve installs it editable


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="modelserve serve",
        description="Serve the model registry (SERVING_MODELS_DIR, default models/) on "
        "SERVING_HOST:SERVING_PORT (default 127.0.0.1:8000); every setting is a SERVING_* "
        "variable (docs/configuration.md).",
        epilog="examples: modelserve serve; SERVING_PORT=9000 modelserve serve; "
        "modelserve serve --train-missing (what make serve runs; MNIST_DIR names the MNIST "
        "files, else data/mnist/, else they are downloaded)",
    )
    parser.add_argument(
        "--train-missing",
        action="store_true",
        help="train the Iris models that are missing, serve, then train the missing MNIST "
        "models and compare each dataset's models while serving",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="with --train-missing: tiny data and one epoch (tests and smoke checks)",
    )
    parser.add_argument(
        "--app",
        default=None,
        help="the ASGI app factory to serve, as module:function (python -m app --app)",
    )
    return parser.parse_args(argv)


def _say(message: str) -> None:
    sys.stderr.write(f"modelserve: {message}\n")
    sys.stderr.flush()


def _ready(settings: Settings) -> dict[str, object] | None:
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    try:
        with urllib.request.urlopen(
            f"http://{host}:{settings.port}/health/ready", timeout=2
        ) as response:
            body: dict[str, object] = json.loads(response.read())
            return body
    except (OSError, ValueError):
        return None


def _wait_ready(settings: Settings, server: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + READY_WAIT_SECONDS
    while time.monotonic() < deadline and server.poll() is None:
        if _ready(settings) is not None:
            return True
        time.sleep(0.2)
    return False


def _missing_mnist(registry: Path) -> list[str]:
    from training.pipeline import select
    from training.registry_writer import existing_versions

    return [s.name for s in select(None, ["mnist"]) if not existing_versions(registry / s.name)]


def _install_keras() -> subprocess.Popen[bytes] | None:
    """make serve installs TensorFlow after the Iris models are served (it takes minutes, they
    seconds): the `train` extra, into this checkout's environment, when it is missing."""
    if all(importlib.util.find_spec(name) is not None for name in ("keras", "tensorflow")):
        return None
    _say("installing Keras and TensorFlow for the MNIST models (once; a few minutes)")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "-e", f"{CHECKOUT}[train]"]
    return subprocess.Popen(command)


def _while_serving(process: subprocess.Popen[bytes], server: subprocess.Popen[bytes]) -> int | None:
    """The process's exit status, or None when the server ended first (then it is stopped)."""
    while process.poll() is None:
        if server.poll() is not None:
            process.terminate()
            process.wait()
            return None
        time.sleep(0.5)
    return process.returncode


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    """Ctrl-C reached the whole process group; give each child time to end, then end it."""
    if process is None or process.poll() is not None:
        return
    try:
        process.wait(timeout=25)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve_while_training(args: argparse.Namespace) -> int:
    settings = Settings()
    training = [
        sys.executable,
        "-m",
        "training",
        "--missing",
        "--registry-dir",
        str(settings.models_dir),
        *(["--quick"] if args.quick else []),
    ]
    server: subprocess.Popen[bytes] | None = None
    trainer: subprocess.Popen[bytes] | None = None
    try:
        iris = subprocess.call([*training, "--dataset", "iris"])
        if iris not in (0, NOT_PROMOTED):
            return iris
        server = subprocess.Popen(
            [sys.executable, "-m", "app", *(["--app", args.app] if args.app else [])]
        )
        if _wait_ready(settings, server):
            _say(
                f"serving on http://{settings.host}:{settings.port}/; training the missing "
                "MNIST models in the background (each is served as it lands; /health/ready "
                "lists those still training)"
            )
        with progress.tracked(settings.models_dir, _missing_mnist(settings.models_dir)):
            trainer = _install_keras()  # /health/ready lists the MNIST models meanwhile
            status = 0 if trainer is None else _while_serving(trainer, server)
        if status not in (0, None):
            _say(f"installing TensorFlow failed (exit {status}); pip install -e '.[train]'")
        if status == 0:
            trainer = subprocess.Popen([*training, "--dataset", "mnist"])
            status = _while_serving(trainer, server)
        if status in (0, NOT_PROMOTED):
            datasets = ["--dataset", "iris", "--dataset", "mnist"]
            comparing = [sys.executable, "-m", "training", "compare", *datasets, "--if-stale"]
            comparing += ["--registry-dir", str(settings.models_dir)]
            trainer = subprocess.Popen(comparing)
            if _while_serving(trainer, server) is not None:
                _say("every model is trained; serving until Ctrl-C")
        elif status is not None:
            _say(f"the MNIST models were not trained (exit {status}); still serving the others")
        return server.wait()
    except KeyboardInterrupt:
        _say("stopping")
        return 0
    finally:
        _stop(trainer)
        _stop(server)
        # A trainer that could not clean up (killed) must not leave the marker claiming it runs.
        (settings.models_dir / progress.MARKER).unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.quick and not args.train_missing:
        sys.stderr.write("modelserve serve: --quick goes with --train-missing\n")
        return 2
    if args.train_missing:
        return serve_while_training(args)
    from app.__main__ import main as serve

    serve(["--app", args.app] if args.app else [])
    return 0
