"""python -m app: run the server under uvicorn, configured by SERVING_* variables."""

from __future__ import annotations

import signal
from types import FrameType

import uvicorn

from app.settings import Settings


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main() -> None:
    settings = Settings()
    # uvicorn drains in-flight requests on SIGTERM, then re-raises the signal to end the process;
    # this handler turns that last step into exit status 0, what orchestrators expect of a
    # clean stop.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
        access_log=False,
        server_header=False,  # requests are counted by /metrics, not logged one by one
    )


if __name__ == "__main__":
    main()
