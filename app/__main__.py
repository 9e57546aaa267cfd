"""python -m app: run the server under uvicorn, configured by SERVING_* variables."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import tempfile
from collections.abc import Iterator
from types import FrameType
from typing import Any

import uvicorn

from app.front.http_protocol import http_protocol
from app.settings import Settings

DEFAULT_APP = "app.main:create_app"


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


METRICS_FILES = ("counter_*.db", "gauge_*.db", "histogram_*.db", "summary_*.db")


@contextlib.contextmanager
def shared_metrics(settings: Settings) -> Iterator[None]:
    """With several workers, a folder for their metrics files (app/observability/metrics.py):
    the one named by PROMETHEUS_MULTIPROC_DIR, emptied of an earlier run's files, else a
    temporary one, removed at the end. The workers inherit the variable, so prometheus_client
    starts in multiprocess mode there."""
    if settings.workers == 1 and settings.metrics_multiprocess_dir is None:
        yield
        return
    named = settings.metrics_multiprocess_dir
    if named is not None:
        named.mkdir(parents=True, exist_ok=True)
        for pattern in METRICS_FILES:  # a dead run's counts must not be summed in
            for stale in named.glob(pattern):
                stale.unlink()
        yield
        return
    with tempfile.TemporaryDirectory(prefix="modelserve-metrics-") as temporary:
        # Written, not read: the spawned workers inherit the environment.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = temporary
        try:
            yield
        finally:
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]


def run(app_path: str, settings: Settings, **overrides: Any) -> None:
    """Serve the ASGI app factory at `app_path` ("module:function") as `python -m app` does."""
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "workers": settings.workers,
        "log_level": settings.log_level,
        "timeout_graceful_shutdown": settings.graceful_shutdown_seconds,
        "loop": "uvloop",
        # Request heads are capped and timed before the app sees them (app/front/http_protocol.py).
        "http": http_protocol(settings),
        "access_log": False,  # requests are counted by /metrics, not logged one by one
        "server_header": False,
        # X-Forwarded-For and -Proto are believed only from the proxies named here (uvicorn
        # would otherwise trust them from 127.0.0.1, or from FORWARDED_ALLOW_IPS).
        "proxy_headers": bool(settings.forwarded_allow_ips.strip()),
        "forwarded_allow_ips": settings.forwarded_allow_ips.strip() or None,
    }
    with shared_metrics(settings):
        uvicorn.run(app_path, factory=True, **{**options, **overrides})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m app", description="Serve the model registry; settings: SERVING_*."
    )
    parser.add_argument(
        "--app",
        default=DEFAULT_APP,
        help=f"the ASGI app factory to serve, as module:function (default: {DEFAULT_APP}); "
        "the benchmark serves its floor with it",
    )
    args = parser.parse_args(argv)
    # uvicorn drains in-flight requests on SIGTERM, then re-raises the signal to end the process;
    # this handler turns that last step into exit status 0, what orchestrators expect of a
    # clean stop.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    run(args.app, Settings())


if __name__ == "__main__":
    main()
