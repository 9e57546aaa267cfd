"""Log lines that clients can cause, throttled: at most one a window, with a count of the rest."""

from __future__ import annotations

import logging
import time

WINDOW_SECONDS = 10.0


class ThrottledLog:
    """Logs an event at most once every `seconds`, saying how many were not logged since the
    last line: a flood of bad tokens or of failing requests cannot flood the log (a 500's
    traceback was 2 KB a request, 0.8 MB/s from one client)."""

    def __init__(self, logger: logging.Logger, level: int, seconds: float = WINDOW_SECONDS) -> None:
        self._logger = logger
        self._level = level
        self._seconds = seconds
        self._next_line = 0.0
        self._unlogged = 0

    def log(self, message: str, *args: object, exc_info: BaseException | None = None) -> None:
        now = time.monotonic()
        if now < self._next_line:
            self._unlogged += 1
            return
        if self._unlogged:
            message += " (%d more since the last line)"
            args = (*args, self._unlogged)
        self._logger.log(self._level, message, *args, exc_info=exc_info)
        self._unlogged = 0
        self._next_line = now + self._seconds
