"""Shadow traffic: a label's shadow version scores the rows the answering version scored,
after the response has been sent, off the request path and within a budget of queued rows
(beyond it, a comparison is dropped and counted). What it measures: how often the two agree
on the label and their mean absolute probability difference (classifiers), or their mean
absolute and relative difference of values (regressors), per pair of versions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from app.registry import outputs as roles
from app.registry.tensors import Columns, join, rows_of, take, to_tensors
from app.runtimes.base import Outputs

if TYPE_CHECKING:
    from app.observability.metrics import Metrics
    from app.registry.registry import LoadedModel

logger = logging.getLogger(__name__)

# Comparisons wait this long to be scored together: one wake-up and one thread hop per window,
# not per request (at 6,000 requests a second, ~60 requests share them).
WINDOW_SECONDS = 0.01
# Rows scored in one call, at most: ~0.1 s of kNN, a few ms of the others.
MAX_ROWS_AT_ONCE = 256
# The shadow's thread yields the core to everything else (Linux: a thread has its own nice).
SHADOW_NICE = 19


@dataclass
class Agreement:
    """The running comparison of one version with its shadow."""

    rows: int = 0
    agreed: int = 0
    abs_diff_sum: float = 0.0
    rel_diff_sum: float = 0.0
    dropped: int = 0
    failed: int = 0
    regression: bool = False

    def _mean(self, total: float) -> float | None:
        return round(total / self.rows, 6) if self.rows else None

    def summary(self) -> dict[str, Any]:
        if self.regression:
            measures = {
                "mean_abs_value_diff": self._mean(self.abs_diff_sum),
                "mean_rel_value_diff": self._mean(self.rel_diff_sum),
            }
        else:
            measures = {
                "agreement": self._mean(self.agreed),
                "mean_abs_probability_diff": self._mean(self.abs_diff_sum),
            }
        return {
            "rows_compared": self.rows,
            **measures,
            "dropped": self.dropped,
            "failed": self.failed,
        }


class _Job(NamedTuple):  # one per shadowed request: a tuple is the cheapest to make
    answered: LoadedModel
    shadow: LoadedModel
    columns: Columns
    outputs: Outputs
    then: Callable[[Outputs], None] | None  # told the shadow's outputs (payload capture)


def _lower_priority() -> None:
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), SHADOW_NICE)


class Compared(NamedTuple):
    agreed: int  # rows with the same label (classifiers)
    abs_diff: float  # sum over rows of the mean absolute probability (or value) difference
    rel_diff: float  # regressors: sum over rows of the mean relative value difference
    outputs: Outputs  # the shadow's


def compare(
    answered: LoadedModel, shadow: LoadedModel, columns: Columns, given: Outputs
) -> Compared:
    """The shadow's outputs for the rows against what the answering version answered."""
    theirs = shadow.runtime.run(to_tensors(shadow.signature, columns))
    if answered.signature.task == "regression":
        ours = roles.values(answered.signature, given)
        other = roles.values(shadow.signature, theirs)
        gap = np.abs(ours - other)
        relative = gap / np.maximum(np.abs(ours), np.finfo(np.float64).tiny)
        return Compared(
            0, float(gap.mean(axis=1).sum()), float(relative.mean(axis=1).sum()), theirs
        )
    ours = roles.probabilities(answered.signature, given)
    scores = roles.probabilities(shadow.signature, theirs)
    agreed = int(np.count_nonzero(ours.argmax(axis=1) == scores.argmax(axis=1)))
    return Compared(agreed, float(np.abs(ours - scores).mean(axis=1).sum()), 0.0, theirs)


def _chunks(jobs: list[_Job]) -> Iterator[tuple[list[_Job], int]]:
    """The jobs in order, in chunks of at most MAX_ROWS_AT_ONCE rows (a bigger job alone),
    each with its count of rows."""
    chunk: list[_Job] = []
    rows = 0
    for job in jobs:
        if chunk and rows + rows_of(job.columns) > MAX_ROWS_AT_ONCE:
            yield chunk, rows
            chunk, rows = [], 0
        chunk.append(job)
        rows += rows_of(job.columns)
    if chunk:
        yield chunk, rows


class Shadows:
    """The bounded queue of comparisons, and the task that scores them in windows, in a thread
    of its own at the lowest CPU priority: the responses come first."""

    def __init__(self, metrics: Metrics, max_queued_rows: int) -> None:
        self.metrics = metrics
        self.max_queued_rows = max_queued_rows
        self.queued_rows = 0
        self.stats: dict[tuple[str, int, int], Agreement] = {}
        self._pending: list[_Job] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: ThreadPoolExecutor | None = None

    def _stats(self, answered: LoadedModel, shadow: LoadedModel) -> Agreement:
        key = (answered.metadata.name, answered.metadata.version, shadow.metadata.version)
        regression = answered.signature.task == "regression"
        return self.stats.setdefault(key, Agreement(regression=regression))

    def submit(
        self,
        answered: LoadedModel,
        shadow: LoadedModel,
        columns: Columns,
        outputs: Outputs,
        then: Callable[[Outputs], None] | None = None,
    ) -> None:
        """Queue a comparison (called once the response is sent); dropped when the queue
        already holds its budget of rows. `then` is told the shadow's outputs for the rows."""
        rows = rows_of(columns)
        if self._wake is None or self.queued_rows + rows > self.max_queued_rows:
            self._stats(answered, shadow).dropped += 1
            self.metrics.count_shadow(
                answered.metadata.name,
                answered.metadata.version,
                shadow.metadata.version,
                "dropped",
                rows,
            )
            return
        self.queued_rows += rows
        self._pending.append(_Job(answered, shadow, columns, outputs, then))
        if len(self._pending) == 1:
            self._wake.set()

    def start(self) -> None:
        self._wake = asyncio.Event()
        self._thread = ThreadPoolExecutor(
            1, thread_name_prefix="shadow", initializer=_lower_priority
        )
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._thread is not None:
            self._thread.shutdown(wait=False, cancel_futures=True)
        self._wake = self._task = self._thread = None
        self._pending = []
        self.queued_rows = 0

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            await asyncio.sleep(WINDOW_SECONDS)  # let the window fill
            self._wake.clear()
            jobs, self._pending = self._pending, []
            # One call per pair of versions and per MAX_ROWS_AT_ONCE rows, in the order queued.
            groups: dict[tuple[int, int], list[_Job]] = {}
            for job in jobs:
                groups.setdefault((id(job.answered), id(job.shadow)), []).append(job)
            for group in groups.values():
                for chunk, rows in _chunks(group):
                    await self._score(chunk, rows)

    async def _score(self, jobs: list[_Job], rows: int) -> None:
        answered, shadow = jobs[0].answered, jobs[0].shadow
        stats = self._stats(answered, shadow)
        try:
            # Joined here, at the event loop's priority: the nice-19 thread should hold the GIL
            # as little as possible (the model call releases it), or the loop waits on it.
            columns = join([job.columns for job in jobs])
            answers = join([job.outputs for job in jobs])
            assert self._thread is not None
            future = self._thread.submit(compare, answered, shadow, columns, answers)
            compared = await asyncio.wrap_future(future)
        except Exception:  # a shadow that fails must not stop the comparisons
            logger.exception("shadow %s failed", shadow.metadata.name)
            stats.failed += len(jobs)
            return
        finally:
            self.queued_rows -= rows
        name, version, other = (
            answered.metadata.name,
            answered.metadata.version,
            shadow.metadata.version,
        )
        start = 0
        for job in jobs:
            stop = start + rows_of(job.columns)
            if job.then is not None:
                job.then(take(compared.outputs, start, stop))
            start = stop
        stats.rows += rows
        stats.agreed += compared.agreed
        stats.abs_diff_sum += compared.abs_diff
        stats.rel_diff_sum += compared.rel_diff
        if stats.regression:
            self.metrics.count_shadow(name, version, other, "compared", rows)
            self.metrics.shadow_value_diff(
                name, version, other, compared.abs_diff, compared.rel_diff
            )
        else:
            self.metrics.count_shadow(name, version, other, "agree", compared.agreed)
            self.metrics.count_shadow(name, version, other, "disagree", rows - compared.agreed)
            self.metrics.shadow_diff(name, version, other, compared.abs_diff)

    def summary(self, name: str) -> list[dict[str, Any]]:
        """The running comparisons of a model's versions with their shadows."""
        return [
            {"version": version, "shadow_version": other, **stats.summary()}
            for (model, version, other), stats in sorted(self.stats.items())
            if model == name
        ]
