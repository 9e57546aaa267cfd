"""WorkerPool: spawned worker processes, one pipe each, driven from the event loop.

A task is pickled and written to an idle worker's pipe; its answer is read when the pipe turns
readable. No thread stands between: ProcessPoolExecutor's manager and feeder threads cost ~0.3 ms
of the server's CPU per task (a round trip of a no-op, 120-155 us; of a 280x280 digit, 320 us),
which on one core made an upload a third slower than decoding it inline.

A task still waiting for a worker when its request is cancelled is never sent; one running is
left to finish, and its worker is idle again once its answer is read. A worker that dies is
reaped and replaced at once; its task, if it had one, fails with ComputeFailedError, and a dead
worker still queued as idle is skipped, so no task is sent to it. A worker ends when its pipe
closes: when the pool closes, or when the server dies, however it dies.

Memory: a task runs with the cyclic garbage collector paused (a 10 MB JSON body of `[]` is 3.4
million lists: parsing it took 1.2 s of collections, 0.2 s without), and after it a worker whose
resident memory grew past TRIM_BYTES gives its free heap back to the system (malloc_trim); one
still past RETIRE_BYTES says so with its answer and is replaced, so a hostile body's objects are
never kept for the next request.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import multiprocessing
import os
import pickle
import signal
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from app.errors import ServiceError
from app.observability.throttled_log import ThrottledLog

logger = logging.getLogger(__name__)
deaths = ThrottledLog(logger, logging.ERROR)  # a client whose requests kill workers, repeatedly
CONTEXT = multiprocessing.get_context("spawn")  # not forked: the runtimes' threads are running
READ_BYTES = 1 << 20
REAP_SECONDS = 0.05  # how often a dead worker's exit is collected, until it can be...
REAP_TRIES = 100  # ...for at most this many times
# A worker at rest holds about 60 MB (Python, numpy, Pillow, the decoders).
TRIM_BYTES = 128 * 1024 * 1024
RETIRE_BYTES = 256 * 1024 * 1024
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


class ComputeFailedError(ServiceError):
    """A worker process died on a request (a crash or the kernel's OOM killer)."""

    status_code = 500
    code = "internal_error"


def resident_bytes() -> int:
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * PAGE_BYTES


def _trim() -> Callable[[], object] | None:
    """glibc's malloc_trim(0), which hands the heap's free pages back; None elsewhere."""
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    return lambda: trim(0)


def _too_big(trim: Callable[[], object] | None) -> bool:
    """Whether this worker should be replaced: past RETIRE_BYTES even after a trim."""
    try:
        if resident_bytes() <= TRIM_BYTES:
            return False
        if trim is not None:
            trim()
        return resident_bytes() > RETIRE_BYTES
    except OSError:  # no /proc: not measured
        return False


def _serve(tasks: Connection, answers: Connection) -> None:
    """A worker's life: run each task received and send back its result or its exception,
    and whether it retires after it."""
    # Ctrl-C reaches the whole process group: the server drains its requests and then closes
    # the pipes, which ends the workers; dying at once would fail those requests.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    trim = _trim()
    while True:
        try:
            function, args = pickle.loads(tasks.recv_bytes())
        except (EOFError, OSError):
            return  # the pool closed the pipe, or the server is gone
        gc.disable()
        try:
            reply: tuple[bool, Any] = (True, function(*args))
        except Exception as exc:
            reply = (False, exc)
        finally:
            gc.enable()
        try:
            data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an answer that does not pickle
            data = pickle.dumps((False, RuntimeError(f"unpicklable answer: {exc!r}")))
        del reply, function, args
        retire = _too_big(trim)
        answers.send_bytes(data + (b"R" if retire else b"-"))
        if retire:
            return


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    tasks: Connection  # written here, blocking: the idle worker reads as it comes
    answers: Connection  # read here as it arrives: the event loop made it non-blocking
    task: asyncio.Future[Any] | None = None
    received: bytearray = field(default_factory=bytearray)

    def answer(self) -> bytes | None:
        """The next whole answer received, in Connection.send_bytes' framing, or None yet."""
        if len(self.received) < 4:
            return None
        (size,) = struct.unpack("!i", self.received[:4])
        start = 4
        if size == -1:  # over 2 GiB: a 64-bit length follows
            if len(self.received) < 12:
                return None
            (size,) = struct.unpack("!Q", self.received[4:12])
            start = 12
        if len(self.received) < start + size:
            return None
        data = bytes(self.received[start : start + size])
        del self.received[: start + size]
        return data


class WorkerPool:
    """`size` worker processes, started on the running event loop and used from it only."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.loop = asyncio.get_running_loop()
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._workers: set[_Worker] = set()
        for _ in range(size):
            self._idle.put_nowait(self._spawn())

    def _spawn(self) -> _Worker:
        task_reader, task_writer = CONTEXT.Pipe(duplex=False)
        answer_reader, answer_writer = CONTEXT.Pipe(duplex=False)
        process = CONTEXT.Process(
            target=_serve, args=(task_reader, answer_writer), daemon=True, name="compute"
        )
        process.start()
        # The worker holds the only other ends: its death reads as EOF here, ours as EOF there.
        task_reader.close()
        answer_writer.close()
        worker = _Worker(process, task_writer, answer_reader)
        self._workers.add(worker)
        self.loop.add_reader(answer_reader.fileno(), self._received, worker)
        return worker

    def _received(self, worker: _Worker) -> None:
        try:
            chunk = os.read(worker.answers.fileno(), READ_BYTES)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._died(worker)
            return
        worker.received += chunk
        data = worker.answer()
        if data is not None:
            self._answered(worker, data)

    def _died(self, worker: _Worker) -> None:
        if worker not in self._workers:
            return  # seen dead already (its pipe's EOF, and a write that failed)
        task, worker.task = worker.task, None
        self._retire(worker)
        deaths.log("a compute worker process died; starting another")
        self._idle.put_nowait(self._spawn())
        if task is not None and not task.done():
            task.set_exception(ComputeFailedError("The server failed to handle this request."))

    def _answered(self, worker: _Worker, data: bytes) -> None:
        task, worker.task = worker.task, None
        if data[-1:] == b"R":  # it grew past its memory bound: a fresh one takes its place
            self._retire(worker)
            self._idle.put_nowait(self._spawn())
        else:
            self._idle.put_nowait(worker)
        try:
            ok, value = pickle.loads(data[:-1])
        except Exception as exc:  # an exception class that cannot be rebuilt here
            ok, value = False, exc
        if task is not None and not task.done():  # done: its request was cancelled meanwhile
            if ok:
                task.set_result(value)
            else:
                task.set_exception(value)

    def _retire(self, worker: _Worker, wait_seconds: float = 0.0) -> None:
        self.loop.remove_reader(worker.answers.fileno())
        worker.answers.close()
        worker.tasks.close()
        self._workers.discard(worker)
        worker.process.join(wait_seconds)  # reaped, not left a zombie
        if worker.process.is_alive() and wait_seconds:
            worker.process.terminate()
        elif worker.process.exitcode is None:
            # Its pipes close a moment before the kernel lets its exit be collected.
            self.loop.call_later(REAP_SECONDS, self._reap, worker.process, REAP_TRIES)

    def _reap(self, process: BaseProcess, tries: int) -> None:
        if process.exitcode is None and tries > 1:  # exitcode collects the exit when it can
            self.loop.call_later(REAP_SECONDS, self._reap, process, tries - 1)

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """`function(*args)` in a worker; `function` and its arguments must pickle."""
        message = pickle.dumps((function, args), pickle.HIGHEST_PROTOCOL)
        while True:
            worker = await self._idle.get()
            if worker not in self._workers:
                continue  # died while idle: its replacement is queued too
            task: asyncio.Future[Any] = self.loop.create_future()
            worker.task = task
            try:
                # A body of a few MB is written in a few ms: the idle worker is reading it.
                worker.tasks.send_bytes(message)
            except OSError:  # it died before its pipe's EOF was read: the task goes to another
                worker.task = None
                self._died(worker)
                continue
            return await task

    def close(self) -> None:
        """Close every pipe: each worker ends when it reads EOF (after its task, if any)."""
        for worker in list(self._workers):
            self._retire(worker, wait_seconds=1.0)
