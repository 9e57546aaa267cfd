"""The bounded pools that heavy work runs in, off the event loop.

Two pools, one worker per CPU this process may run on (or `compute_workers`):
- processes, for decoding request bodies and preprocessing images. Threads scaled as well on
  images (280x280 PNGs on two cores: 650 images/s in two threads, 660 in two processes, 450 in
  one), since Pillow and numpy release the GIL; but orjson and the row checks hold it: a
  1024-row MNIST body took 64 ms to decode, and in a thread the event loop would wait that long
  (the hostile 500,000-key row, 140 ms). Processes also keep a crashing decoder or a heap
  fragmented by a 25-megapixel image out of the server process.
- threads, for inference on large batches: ONNX Runtime, the LiteRT interpreter and numpy release
  the GIL while they compute, and the models live in this process.

A task waiting in a queue when its request is cancelled (deadline, client gone) never starts;
one running finishes its chunk, which the callers keep small, so work past a deadline stops
within a chunk.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

from app.errors import ServiceError

logger = logging.getLogger(__name__)

PARENT_CHECK_SECONDS = 1.0
P = ParamSpec("P")
T = TypeVar("T")


class ComputeFailedError(ServiceError):
    """A worker process died on a request (a crash or the kernel's OOM killer)."""

    status_code = 500
    code = "internal_error"


def available_cpus() -> int:
    """The CPUs this process may run on (taskset, cgroup cpusets), not the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _ready() -> int:
    return os.getpid()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)  # the server is gone (SIGKILL, the OOM killer): no shutdown will come


def _end_with_parent() -> None:
    """A worker ends with the server, however the server ends: a clean stop shuts the pool
    down, an abrupt one must not leave workers behind. (PR_SET_PDEATHSIG would tie a worker to
    the thread that started it, which may end long before the server does.)"""
    thread = threading.Thread(
        target=_watch_parent, args=(os.getppid(),), name="watch-parent", daemon=True
    )
    thread.start()


class Compute:
    """A process pool and a thread pool of `workers` each, made on start (or first use) and
    ended on close; the app's lifespan does both, and may do them again."""

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers or available_cpus()
        self._threads: ThreadPoolExecutor | None = None
        self._processes: ProcessPoolExecutor | None = None

    def _thread_pool(self) -> ThreadPoolExecutor:
        if self._threads is None:
            self._threads = ThreadPoolExecutor(self.workers, thread_name_prefix="compute")
        return self._threads

    def _process_pool(self) -> ProcessPoolExecutor:
        if self._processes is None:
            # Spawned, not forked: the model runtimes' threads are running when a worker starts.
            context = multiprocessing.get_context("spawn")
            self._processes = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_end_with_parent
            )
        return self._processes

    async def start(self) -> None:
        """Start every worker process now, so the first requests do not wait for Python."""
        loop = asyncio.get_running_loop()
        pool = self._process_pool()
        await asyncio.gather(*(loop.run_in_executor(pool, _ready) for _ in range(self.workers)))

    async def in_process(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`function(*args)` in a worker process; `function` and its arguments must pickle."""
        pool = self._process_pool()
        try:
            return await _run(pool, function, *args, **kwargs)
        except BrokenProcessPool as exc:
            logger.error("a compute worker process died; starting a new pool")
            if pool is self._processes:
                self._processes = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise ComputeFailedError("The server failed to handle this request.") from exc

    async def in_thread(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`function(*args)` in a worker thread."""
        return await _run(self._thread_pool(), function, *args, **kwargs)

    def close(self) -> None:
        for pool in (self._threads, self._processes):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
        self._threads = self._processes = None


async def _run(
    executor: Executor, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    # Cancelling the awaiting task cancels the pool's future: a task still queued never runs.
    future = executor.submit(function, *args, **kwargs)
    return await asyncio.wrap_future(future)
