"""Start `python -m app` in its own process, pinned to a core, and measure it from outside."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.01
# The settings every server of the run shares, the floor included; `python -m app` adds the rest
# (uvloop, its httptools protocol with the head limits, no access log), so the floor runs on the
# same server as the app.
SERVER_ENV = {
    "SERVING_HOST": "127.0.0.1",
    "SERVING_WORKERS": "1",
    "SERVING_LOG_LEVEL": "warning",
}


@dataclass
class Server:
    """A running server process: where it listens and how long it took to be ready."""

    process: subprocess.Popen[bytes]
    base_url: str
    ready_seconds: float

    def rss_mb(self) -> float:
        """Resident memory of the server process, from /proc."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS line")


def cpus() -> tuple[int | None, int | None]:
    """CPU 0 for the servers and CPU 1 for the load, when this process may use two of them (its
    affinity, not the machine's); else neither is pinned."""
    return (0, 1) if len(os.sched_getaffinity(0)) >= 2 else (None, None)


def pin(cpu: int | str | None) -> list[str]:
    """The taskset prefix that pins a command to `cpu` (or a CPU list such as "0,1"), or nothing."""
    if cpu is None or shutil.which("taskset") is None:
        return []
    return ["taskset", "-c", str(cpu)]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_ready(
    process: subprocess.Popen[bytes], url: str, what: str, expect_models: int | None = None
) -> None:
    """Poll `url` until it answers 200 (with `expect_models` models ready, if given); raise if
    the process exits first or START_TIMEOUT_SECONDS pass."""
    deadline = time.perf_counter() + START_TIMEOUT_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before it was ready")
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{what} not ready after {START_TIMEOUT_SECONDS:.0f} s")
        try:
            status, body = _get(url)
        except OSError:  # not listening yet
            status, body = 0, b""
        if status == 200 and (
            expect_models is None or json.loads(body).get("models_ready") == expect_models
        ):
            return
        time.sleep(POLL_SECONDS)


@contextmanager
def serve(
    app: str,
    port: int,
    env: dict[str, str],
    cpu: int | str | None,
    ready_path: str,
    expect_models: int | None = None,
    checkout: Path | None = None,
) -> Iterator[Server]:
    """Start `python -m app --app <app>`; yield once `ready_path` answers 200 (with every model).
    With `checkout`, an earlier commit's code is run instead, as `python -m uvicorn <app>` there
    (its own `python -m app` may not take --app), with uvloop and httptools as ours."""
    command = [*pin(cpu), sys.executable, "-m", "app", "--app", app]
    process_env = {**os.environ, **SERVER_ENV, "SERVING_PORT": str(port), **env}
    if checkout is not None:
        command = [
            *pin(cpu),
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--factory",
            *("--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop"),
            *("--http", "httptools", "--no-access-log", "--log-level", "warning"),
        ]
        process_env["PYTHONPATH"] = str(checkout.resolve())
    started = time.perf_counter()
    process = subprocess.Popen(command, env=process_env, cwd=checkout)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(process, url + ready_path, app, expect_models)
        yield Server(process, url, time.perf_counter() - started)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
