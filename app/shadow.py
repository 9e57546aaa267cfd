"""Shadow traffic: a label's shadow version scores the rows the answering version scored,
after the response has been sent, off the request path and within a budget of queued rows
(beyond it, a comparison is dropped and counted). What it measures: how often the two agree
on the label, and their mean absolute probability difference, per pair of versions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from app.runtimes.base import Array, Batch

if TYPE_CHECKING:
    from app.compute import Compute
    from app.metrics import Metrics
    from app.registry import LoadedModel

logger = logging.getLogger(__name__)

# Queued comparisons scored together, at most: ~0.1 s of kNN, a few ms of the others.
MAX_JOBS_AT_ONCE = 64


@dataclass
class Agreement:
    """The running comparison of one version with its shadow."""

    rows: int = 0
    agreed: int = 0
    abs_diff_sum: float = 0.0
    dropped: int = 0
    failed: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "rows_compared": self.rows,
            "agreement": round(self.agreed / self.rows, 6) if self.rows else None,
            "mean_abs_probability_diff": round(self.abs_diff_sum / self.rows, 6)
            if self.rows
            else None,
            "dropped": self.dropped,
            "failed": self.failed,
        }


@dataclass(frozen=True)
class _Job:
    answered: LoadedModel
    shadow: LoadedModel
    batch: Batch
    probabilities: Array


class Shadows:
    """The bounded queue of comparisons and the task that runs them."""

    def __init__(self, compute: Compute, metrics: Metrics, max_queued_rows: int) -> None:
        self.compute = compute
        self.metrics = metrics
        self.max_queued_rows = max_queued_rows
        self.queued_rows = 0
        self.stats: dict[tuple[str, int, int], Agreement] = {}
        self._queue: asyncio.Queue[_Job] | None = None
        self._task: asyncio.Task[None] | None = None

    def _stats(self, job: _Job) -> Agreement:
        key = (
            job.answered.metadata.name,
            job.answered.metadata.version,
            job.shadow.metadata.version,
        )
        return self.stats.setdefault(key, Agreement())

    def submit(
        self, answered: LoadedModel, shadow: LoadedModel, batch: Batch, probabilities: Array
    ) -> None:
        """Queue a comparison (called once the response is sent); dropped when the queue
        already holds its budget of rows."""
        job = _Job(answered, shadow, batch, probabilities)
        if self._queue is None or self.queued_rows + len(batch) > self.max_queued_rows:
            self._stats(job).dropped += 1
            self.metrics.count_shadow(
                answered.metadata.name,
                answered.metadata.version,
                shadow.metadata.version,
                "dropped",
                len(batch),
            )
            return
        self.queued_rows += len(batch)
        self._queue.put_nowait(job)

    def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._queue = self._task = None
        self.queued_rows = 0

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            jobs = [await self._queue.get()]
            while not self._queue.empty() and len(jobs) < MAX_JOBS_AT_ONCE:
                jobs.append(self._queue.get_nowait())
            # One call per shadow version for everything queued: under load, a thread hop
            # per request would cost more than the shadow's model.
            groups: dict[int, list[_Job]] = {}
            for job in jobs:
                groups.setdefault(id(job.shadow), []).append(job)
            for group in groups.values():
                await self._score(group)

    async def _score(self, jobs: list[_Job]) -> None:
        batch = np.concatenate([job.batch for job in jobs])
        try:
            # In a thread: the event loop keeps serving while the shadow computes.
            scores = await self.compute.in_thread(jobs[0].shadow.runtime.predict_proba, batch)
            start = 0
            for job in jobs:
                self._compare(job, scores[start : start + len(job.batch)])
                start += len(job.batch)
        except Exception:  # a shadow that fails must not stop the comparisons
            logger.exception("shadow %s failed", jobs[0].shadow.metadata.name)
            for job in jobs:
                self._stats(job).failed += 1
        finally:
            self.queued_rows -= len(batch)

    def _compare(self, job: _Job, shadow: Array) -> None:
        name, version = job.answered.metadata.name, job.answered.metadata.version
        other = job.shadow.metadata.version
        agreed = int((job.probabilities.argmax(axis=1) == shadow.argmax(axis=1)).sum())
        diff = float(np.abs(job.probabilities - shadow).mean(axis=1).sum())
        stats = self._stats(job)
        stats.rows += len(job.batch)
        stats.agreed += agreed
        stats.abs_diff_sum += diff
        self.metrics.count_shadow(name, version, other, "agree", agreed)
        self.metrics.count_shadow(name, version, other, "disagree", len(job.batch) - agreed)
        self.metrics.shadow_diff(name, version, other, diff)

    def summary(self, name: str) -> list[dict[str, Any]]:
        """The running comparisons of a model's versions with their shadows."""
        return [
            {"version": version, "shadow_version": other, **stats.summary()}
            for (model, version, other), stats in sorted(self.stats.items())
            if model == name
        ]
