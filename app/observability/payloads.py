"""Payload capture: a sample of the answered requests (id, time, model, version, route, latency,
inputs by column, outputs) written to a folder or sent to a URL, off the request path.

The core hands over references to a request's arrays once its response is sent; they wait in a
queue bounded in rows, and a thread of its own turns them into JSON and writes them. A full
queue drops the capture and counts it; nothing here ever makes a response wait. A sink that
fails (a folder not writable or full, a URL down) is logged at most once a minute, with a count,
and shown in /health/ready.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from app.observability import request_ids
from app.observability.payload_events import EventSender
from app.observability.payload_files import SegmentFolder
from app.observability.payload_records import Capture, SinkError
from app.observability.throttled_log import ThrottledLog
from app.registry.tensors import Columns, rows_of
from app.runtimes.base import Outputs

if TYPE_CHECKING:
    from app.observability.metrics import Metrics
    from app.registry.registry import LoadedModel
    from app.settings import Settings

logger = logging.getLogger(__name__)

# Captures turned into JSON and written at once (~10 us each for a one-row request): the event
# loop waits for the GIL ~0.3 ms at most while a batch is encoded (the writer lets it go to
# write). Letting it go after each record cost more than the encoding (~60 us a record in
# thread switches), and a pause after each batch ~15 us a request more than none.
BATCH = 32
# Captures wait this long to be written together: one wake-up of the writer a window, not one
# a request (waking it for each cost a one-row predict a third of its throughput).
WINDOW_SECONDS = 0.05
IDLE_SECONDS = 1.0  # how often an idle writer looks at its segment's age
STOP_SECONDS = 5.0  # how long a stopping server waits for the queue to be written


class Sink(Protocol):
    def describe(self) -> str: ...
    def start(self) -> None: ...
    def write(self, captures: list[Capture]) -> None: ...
    def tick(self) -> None: ...
    def close(self) -> None: ...


class PayloadLog:
    """The sampled captures, their bounded queue and the thread that writes them."""

    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.metrics = metrics
        self.sample = settings.payload_sample
        self.enabled = settings.payload_log is not None and self.sample > 0
        self.max_rows = settings.payload_queue_rows
        self.written = 0
        self.dropped = {"queue_full": 0, "sink_failed": 0, "encode_failed": 0}
        self.problem: dict[str, Any] | None = None
        self._pending: deque[Capture] = deque()
        self._queued_rows = 0  # written by the event loop only
        self._done_rows = 0  # written by the writer thread only
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._log = ThrottledLog(logger, logging.WARNING, 60.0)
        self.sink: Sink | None = None
        target = settings.payload_log
        if not self.enabled or target is None:
            return
        if target.lower().startswith(("http://", "https://")):
            self.sink = EventSender(target, settings.payload_images, self._stopping)
        else:
            self.sink = SegmentFolder(
                Path(target),
                settings.payload_segment_bytes,
                settings.payload_segment_seconds,
                settings.payload_max_bytes,
                settings.payload_images,
                metrics.payload_segments_removed.inc,
            )

    def wanted(self) -> bool:
        """Whether to capture the request being answered: on, and drawn in the sample."""
        return self.enabled and (self.sample >= 1.0 or random.random() < self.sample)

    def capture(
        self,
        model: LoadedModel,
        route: str,
        shadow_version: int | None,
        columns: Columns,
        outputs: Outputs,
        after: list[Callable[[], None]] | None,
    ) -> None:
        """Queue the request once its response is sent (`after`), or now when there is none."""
        request = request_ids.current()

        def submit() -> None:
            latency = time.perf_counter() - request.started
            self._submit(Capture(request, model, route, shadow_version, columns, outputs, latency))

        if after is None:
            submit()
        else:
            after.append(submit)

    def shadowed(self, shadow: LoadedModel, columns: Columns) -> Callable[[Outputs], None]:
        """What queues the shadow's answer to the request being answered, once scored: a
        record of route `shadow`, its latency up to the shadow's answer."""
        request = request_ids.current()

        def submit(outputs: Outputs) -> None:
            latency = time.perf_counter() - request.started
            self._submit(Capture(request, shadow, "shadow", None, columns, outputs, latency))

        return submit

    def _submit(self, capture: Capture) -> None:
        rows = rows_of(capture.columns)
        if self._thread is None or self._queued_rows - self._done_rows + rows > self.max_rows:
            self._drop("queue_full", 1)
            return
        self._queued_rows += rows
        self._pending.append(capture)
        if len(self._pending) == 1:
            self._wake.set()

    def _drop(self, reason: str, count: int) -> None:
        self.dropped[reason] += count
        self.metrics.payloads_dropped.labels(reason).inc(count)

    def start(self) -> None:
        if self.sink is not None and self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="payloads", daemon=True)
            self._thread.start()

    async def stop(self) -> None:
        """Write what is queued (for a few seconds at most), then close the sink."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            self._wake.set()
            await asyncio.to_thread(thread.join, STOP_SECONDS)

    def _run(self) -> None:
        assert self.sink is not None
        self._guarded(self.sink.start)
        while True:
            if self._wake.wait(IDLE_SECONDS):
                self._stopping.wait(WINDOW_SECONDS)  # let the window fill
            self._wake.clear()
            while self._pending:
                batch = [self._pending.popleft() for _ in range(min(BATCH, len(self._pending)))]
                self._write(batch)
            self._guarded(self.sink.tick)
            if self._stopping.is_set() and not self._pending:
                break
        self._guarded(self.sink.close)

    def _write(self, batch: list[Capture]) -> None:
        assert self.sink is not None
        try:
            self.sink.write(batch)
            lost = 0
        except SinkError as exc:
            lost = exc.lost
            self._drop("sink_failed", lost)
            self._trouble(str(exc))
        except Exception as exc:  # a record the code could not encode: a bug, not the sink's
            lost = len(batch)
            self._drop("encode_failed", lost)
            self._log.log("payload records could not be encoded", exc_info=exc)
        finally:
            self._done_rows += sum(rows_of(capture.columns) for capture in batch)
        if lost < len(batch):
            self.written += len(batch) - lost
            self.metrics.payloads_written.inc(len(batch) - lost)

    def _guarded(self, step: Callable[[], None]) -> None:
        try:
            step()
        except SinkError as exc:
            self._trouble(str(exc))

    def _trouble(self, message: str) -> None:
        count = (self.problem or {}).get("count", 0) + 1
        when = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        self.problem = {"message": message, "count": count, "last": when}
        self._log.log("payload capture: %s (problems so far: %d)", message, count)

    def status(self) -> dict[str, Any] | None:
        """For /health/ready: where captures go, how many were written and dropped, and the
        last problem (the server stays ready: capture never fails a request)."""
        if self.sink is None:
            return None
        result: dict[str, Any] = {
            "sink": self.sink.describe(),
            "sample": self.sample,
            "written": self.written,
            "dropped": sum(self.dropped.values()),
        }
        if self.problem is not None:
            result["problem"] = self.problem
        return result
