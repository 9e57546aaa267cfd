"""Start each peer on the same model, one process tree pinned to one core, and stop it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from bench.peers.environments import PeerUnavailableError
from bench.servers import Server, pin, wait_ready

MODEL = "customers"
# Saved by the MLflow environment's own mlflow: skops (MLflow 3's default, no unpickling), with
# the two types skops does not trust by itself listed as trusted; the signature inferred from
# the held-out rows (gaps included), as `mlflow.sklearn.log_model` users do.
SAVE_MLFLOW = """
import sys
import joblib, pandas, skops.io
import mlflow.sklearn
from mlflow.models import infer_signature

source, rows, label, target = sys.argv[1:5]
model = joblib.load(source)
features = pandas.read_csv(rows).drop(columns=[label])
trusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
mlflow.sklearn.save_model(
    model, target, serialization_format="skops", skops_trusted_types=trusted,
    signature=infer_signature(features, model.predict(features)), input_example=features.head(5),
)
"""


@contextmanager
def running(
    command: list[str], env_folder: Path, url: str, ready_path: str, log: Path
) -> Iterator[Server]:
    """Run `command` in a session of its own with the environment's bin first on PATH; yield once
    `ready_path` answers 200; stop the whole session (a CLI that starts a server as its child)."""
    env = {**os.environ, "PATH": f"{env_folder / 'bin'}:{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        try:
            wait_ready(process, url + ready_path, command[len(pin(0))])
        except RuntimeError as exc:
            raise PeerUnavailableError(f"{exc}: {tail(log)}") from exc
        yield Server(process, url, 0.0)
    finally:
        for sent in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sent)
                process.wait(timeout=10)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue


def tail(log: Path) -> str:
    """The log's last line, to say why a peer did not start."""
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"


def mlserver(
    env_folder: Path, joblib_file: Path, folder: Path, port: int, cpu: int | None
) -> AbstractContextManager[Server]:
    """`mlserver start` on a folder holding the joblib file with mlserver-sklearn's runtime;
    one inference worker (parallel_workers, MLServer's default), gRPC and metrics on the next
    ports."""
    model_folder = folder / MODEL
    model_folder.mkdir(parents=True)
    shutil.copyfile(joblib_file, model_folder / "model.joblib")
    settings = {
        "host": "127.0.0.1",
        "http_port": port,
        "grpc_port": port + 1,
        "metrics_port": port + 2,
        "parallel_workers": 1,
    }
    (folder / "settings.json").write_text(json.dumps(settings))
    model_settings = {
        "name": MODEL,
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib", "version": "v1"},
    }
    (model_folder / "model-settings.json").write_text(json.dumps(model_settings))
    command = [*pin(cpu), str(env_folder / "bin" / "mlserver"), "start", str(folder)]
    url = f"http://127.0.0.1:{port}"
    return running(command, env_folder, url, f"/v2/models/{MODEL}/ready", folder / "server.log")


def mlflow(
    env_folder: Path,
    joblib_file: Path,
    rows: tuple[Path, str],
    folder: Path,
    port: int,
    cpu: int | None,
) -> AbstractContextManager[Server]:
    """The joblib file saved as an MLflow model (skops, its signature from `rows`: a CSV file and
    its label column), then `mlflow models serve --env-manager local` with one uvicorn worker."""
    rows_file, label = rows
    saved = folder / "model"
    python = str(env_folder / "bin" / "python")
    done = subprocess.run(
        [python, "-c", SAVE_MLFLOW, str(joblib_file), str(rows_file), label, str(saved)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["no output"]
        raise PeerUnavailableError(f"saving the MLflow model failed: {lines[-1]}")
    command = [
        *pin(cpu),
        str(env_folder / "bin" / "mlflow"),
        *("models", "serve", "-m", str(saved), "--env-manager", "local"),
        *("-h", "127.0.0.1", "-p", str(port), "-w", "1"),
    ]
    url = f"http://127.0.0.1:{port}"
    return running(command, env_folder, url, "/ping", folder / "server.log")
