"""The bounded pools that heavy work runs in, off the event loop.

Two pools, one worker per CPU this process may run on (or `compute_workers`):
- processes (app/core/workers.py), for decoding request bodies and preprocessing images. Threads
  scaled as well on images in a plain pool (280x280 PNGs on two cores: 650 images/s in two
  threads, 660 in two processes, 450 in one), since Pillow and numpy release the GIL; but orjson
  and the row checks hold it: a 1024-row MNIST body took 64 ms to decode, and in a thread the
  event loop would wait that long (the hostile 500,000-key row, 140 ms). Processes also keep a
  crashing decoder or a heap fragmented by a 25-megapixel image out of the server process.
- threads, for inference on large batches: ONNX Runtime, the LiteRT interpreter and numpy release
  the GIL while they compute, and the models live in this process.

A task waiting for a worker when its request is cancelled (deadline, client gone) never starts;
one running finishes its chunk, which the callers keep small, so work past a deadline stops
within a chunk.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from app.core.fairness import FairGate
from app.core.workers import WorkerPool

T = TypeVar("T")


def available_cpus() -> int:
    """The CPUs this process may run on (taskset, cgroup cpusets), not the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _ready() -> int:
    return os.getpid()


class Compute:
    """A pool of `workers` processes and one of as many threads, made on start (or first use)
    and ended on close; the app's lifespan does both, and may do them again."""

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers or available_cpus()
        self._threads: ThreadPoolExecutor | None = None
        self._gate: FairGate | None = None
        self._processes: WorkerPool | None = None

    def _process_pool(self) -> WorkerPool:
        pool = self._processes
        if pool is None or pool.loop is not asyncio.get_running_loop():
            if pool is not None:  # made on another event loop (tests run apps on several)
                pool.close()
            pool = self._processes = WorkerPool(self.workers)
        return pool

    async def start(self) -> None:
        """Start every worker process now, so the first requests do not wait for Python."""
        pool = self._process_pool()
        await asyncio.gather(*(pool.run(_ready) for _ in range(self.workers)))

    async def in_process(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` in a worker process; `function` and its arguments must pickle."""
        result: T = await self._process_pool().run(function, *args)
        return result

    async def in_thread(self, function: Callable[..., T], *args: Any, key: str = "") -> T:
        """`function(*args)` in a worker thread, when `key` (a model) has its turn."""
        threads = self._threads
        if threads is None:
            threads = self._threads = ThreadPoolExecutor(self.workers, thread_name_prefix="compute")
        gate = self._gate
        if gate is None or gate.loop is not asyncio.get_running_loop():  # tests run several
            gate = self._gate = FairGate(self.workers)
        # Cancelling the awaiting task cancels the future: a task still queued never runs.
        return await gate.run(key, lambda: threads.submit(function, *args))

    def close(self) -> None:
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)
        if self._processes is not None:
            self._processes.close()
        self._threads = self._processes = None
        self._gate = None
