"""Adaptive micro-batching: concurrent predict calls on one model share one runtime call."""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass

from app.registry.tensors import join, rows_of
from app.runtimes.base import Outputs, Runtime, Tensors


@dataclass
class _Waiting:
    tensors: Tensors
    rows: int
    future: asyncio.Future[Outputs]


class Batcher:
    """Queues the rows of concurrent requests and scores them in one call to the runtime.

    Nothing waits on a timer when the server is idle: the first request schedules a run, which
    lets the event loop go round while that brings in more requests (requests already received
    reach this point within a few turns), then scores whatever is queued. It stops gathering at
    `max_batch_size` rows, after `max_latency_ms`, or as soon as a turn brings in nothing new.
    The model runs inline, on the event loop: on one core a thread would only add a hand-over.
    """

    def __init__(self, runtime: Runtime, max_batch_size: int, max_latency_ms: float) -> None:
        # Weak: a version dropped from the registry must not be kept alive by its batcher.
        self._runtime = weakref.ref(runtime)
        self._max_rows = max_batch_size
        self._max_wait = max_latency_ms / 1000
        self._queue: list[_Waiting] = []
        self._rows = 0
        self._running = False

    async def run(self, tensors: Tensors) -> Outputs:
        """This request's outputs, in the order of its rows."""
        future: asyncio.Future[Outputs] = asyncio.get_running_loop().create_future()
        rows = rows_of(tensors)
        self._queue.append(_Waiting(tensors, rows, future))
        self._rows += rows
        if not self._running:
            self._running = True
            asyncio.get_running_loop().create_task(self._run())
        return await future

    async def _gather(self) -> None:
        deadline = time.perf_counter() + self._max_wait
        while self._rows < self._max_rows and time.perf_counter() < deadline:
            queued = len(self._queue)
            await asyncio.sleep(0)  # one turn of the loop: received requests move on
            if len(self._queue) == queued:
                return

    def _take(self) -> list[_Waiting]:
        """The oldest requests, up to `max_batch_size` rows (always at least one request)."""
        taken: list[_Waiting] = []
        rows = 0
        while self._queue and (not taken or rows + self._queue[0].rows <= self._max_rows):
            waiting = self._queue.pop(0)
            taken.append(waiting)
            rows += waiting.rows
        self._rows -= rows
        return taken

    async def _run(self) -> None:
        try:
            while self._queue:
                await self._gather()
                self._score(self._take())
        finally:
            self._running = False

    def _score(self, batch: list[_Waiting]) -> None:
        try:
            runtime = self._runtime()
            if runtime is None:
                raise RuntimeError("the model version was unloaded while requests waited")
            outputs = runtime.run(join([waiting.tensors for waiting in batch]))
        except Exception as exc:  # every request of the batch gets the runtime's error
            for waiting in batch:
                if not waiting.future.done():
                    waiting.future.set_exception(exc)
            return
        start = 0
        for waiting in batch:
            end = start + waiting.rows
            if not waiting.future.done():  # a cancelled request (client gone) is skipped
                waiting.future.set_result({k: v[start:end] for k, v in outputs.items()})
            start = end


class Batchers:
    """One Batcher per loaded runtime, made on first use; when off, the runtime is called as is."""

    def __init__(self, enabled: bool, max_batch_size: int, max_latency_ms: float) -> None:
        self.enabled = enabled
        self._max_batch_size = max_batch_size
        self._max_latency_ms = max_latency_ms
        self._batchers: weakref.WeakKeyDictionary[Runtime, Batcher] = weakref.WeakKeyDictionary()

    async def run(self, runtime: Runtime, tensors: Tensors) -> Outputs:
        if not self.enabled:
            return runtime.run(tensors)
        batcher = self._batchers.get(runtime)
        if batcher is None:
            batcher = Batcher(runtime, self._max_batch_size, self._max_latency_ms)
            self._batchers[runtime] = batcher
        return await batcher.run(tensors)
