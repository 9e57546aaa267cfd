"""The core every protocol calls: resolve a model version, turn a decoded request into a batch,
run the model, and count what it predicted. It knows nothing of HTTP or JSON.

Where work runs is decided from what it costs: small bodies and cheap models inline on the
event loop (a hand-over to a pool costs more than they do), everything else in the bounded pools
of app/core/compute.py, split into chunks so that a request past its deadline stops within a chunk.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from app.core.batching import Batchers
from app.core.compute import Compute
from app.core.shadow import Shadows
from app.errors import PayloadTooLargeError
from app.imaging.uploads import preprocess_all, probe_all
from app.observability.drift import DriftMonitor
from app.observability.metrics import Metrics
from app.observability.payloads import PayloadLog
from app.registry import outputs as roles
from app.registry.registry import LoadedModel, ModelRegistry, Route
from app.registry.tensors import Columns, join, rows_of, take, to_tensors
from app.runtimes.base import Array, Outputs
from app.settings import Settings

T = TypeVar("T")

# Bodies up to this size are decoded inline: ~20 MNIST rows of JSON, a few small PNGs.
INLINE_BODY_BYTES = 64 * 1024
# Binary tensors past this size are converted and checked in a thread (numpy releases the GIL;
# a worker process would copy them twice): 1024 MNIST rows of FP32 are 3.2 MB, ~3 ms of work.
INLINE_TENSOR_BYTES = 256 * 1024
# Images up to this many pixels in all, and this many images, are probed and preprocessed
# inline: each costs about a millisecond however small (1,024 4x4 WebPs held the loop 3 s).
INLINE_PIXELS = 128 * 128
INLINE_IMAGES = 4
# Preprocessing tasks of about this many pixels: a 16-megapixel image is one task on its own.
CHUNK_PIXELS = 4_000_000
# A model call estimated under this runs inline; the thread hop costs about as much.
INLINE_SECONDS = 0.0005
# Batches for the thread pool are split into calls of about this long: another model's request
# waits at most about this for a thread (at 0.1 s, an 8-row request behind 1,024-row kNN
# batches waited 200-320 ms; at 0.01, 23-61 ms), for ~1 % more per call on the batch.
CHUNK_SECONDS = 0.01


async def all_or_none(work: Iterable[Awaitable[T]]) -> list[T]:
    """Every result in order; on the first failure the rest are cancelled (those still queued
    in a pool never start), unlike asyncio.gather, which lets them run on."""
    tasks = [asyncio.ensure_future(item) for item in work]
    if len(tasks) == 1:
        return [await tasks[0]]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        raise


@dataclass(frozen=True)
class Target:
    """The version that answers a request, the shadow version that also scores its rows
    once the response is sent (or None), and how the request got there."""

    model: LoadedModel
    shadow: LoadedModel | None = None
    route: Route = "pinned"


@dataclass(frozen=True)
class Prediction:
    """One version's outputs for each row of a batch, in order, and what they mean by its
    signature: a classifier's probabilities and class indices, a regressor's values."""

    model: LoadedModel
    outputs: Outputs

    @property
    def is_classifier(self) -> bool:
        return self.model.signature.task == "classification"

    @cached_property
    def probabilities(self) -> npt.NDArray[np.float64]:
        """[n, classes], in the order of the signature's class labels."""
        return roles.probabilities(self.model.signature, self.outputs)

    @cached_property
    def class_indices(self) -> npt.NDArray[np.int64]:
        return np.asarray(self.probabilities.argmax(axis=1), dtype=np.int64)

    @property
    def labels(self) -> list[str]:
        """The class labels (empty for a regressor)."""
        classes = self.model.signature.classes
        return classes.labels if classes is not None else []

    @cached_property
    def values(self) -> npt.NDArray[np.float64]:
        """A regressor's [n, outputs] values."""
        return roles.values(self.model.signature, self.outputs)


def run_columns(model: LoadedModel, columns: Columns) -> Outputs:
    """The version's outputs for a batch of columns, in the calling thread."""
    return model.runtime.run(to_tensors(model.signature, columns))


class DataPlane:
    """Models, versions and compute, behind one protocol-agnostic interface."""

    def __init__(
        self,
        registry: ModelRegistry,
        compute: Compute,
        metrics: Metrics,
        batchers: Batchers,
        settings: Settings,
        shadows: Shadows,
        payloads: PayloadLog | None = None,
    ) -> None:
        self.registry = registry
        self.compute = compute
        self.metrics = metrics
        self.batchers = batchers
        self.settings = settings
        self.shadows = shadows
        self.payloads = payloads or PayloadLog(settings, metrics)
        self.drift = DriftMonitor(settings.drift_window, metrics)

    def resolve(
        self,
        name: str,
        version: int | None = None,
        label: str | None = None,
        key: bytes | None = None,
    ) -> Target:
        """The version a request goes to: pinned, by label (with its canary and shadow; `key`
        keeps one client on one side of a canary), or `production`, else the newest."""
        return Target(*self.registry.resolve(name, version, label, key))

    async def decode(self, size: int, function: Callable[..., T], *args: Any, items: int = 1) -> T:
        """`function(*args)`, a protocol's decoder of a body of `size` bytes holding about
        `items` images: inline when small and few, else in a worker process."""
        if size <= INLINE_BODY_BYTES and items <= INLINE_IMAGES:
            return function(*args)
        return await self.compute.in_process(function, *args)

    async def decode_tensors(
        self, header_size: int, binary_size: int, function: Callable[..., T], *args: Any
    ) -> T:
        """`function(*args)`, a decoder of a JSON header followed by binary tensors: a large
        header in a worker process, as decode(); large binary data in a thread."""
        if header_size > INLINE_BODY_BYTES:
            return await self.compute.in_process(function, *args)
        if binary_size > INLINE_TENSOR_BYTES:
            return await self.compute.in_thread(function, *args)
        return function(*args)

    async def images(self, payloads: list[bytes]) -> Array:
        """Uploaded images -> a (n, 784) batch of MNIST-style digits. Headers are checked first,
        against the per-image and per-request pixel limits, before any image is decoded."""
        numbered = len(payloads) > 1
        limit = self.settings.max_image_pixels
        size = sum(len(data) for data in payloads)
        # Each image costs about a millisecond however small: inline only a few, small ones.
        inline = size <= INLINE_BODY_BYTES and len(payloads) <= INLINE_IMAGES
        if inline:
            pixels = probe_all(payloads, numbered, limit)
        else:
            pixels = await self.compute.in_process(probe_all, payloads, numbered, limit)
        total = sum(pixels)
        if total > self.settings.max_request_pixels:
            raise PayloadTooLargeError(
                f"The images hold {total} pixels in all; at most "
                f"{self.settings.max_request_pixels} are accepted in one request."
            )
        if inline and total <= INLINE_PIXELS:
            digits = preprocess_all(payloads, 0, numbered, limit)
        else:
            chunks, start, load = [], 0, 0
            for index, count in enumerate(pixels):
                load += count
                if load >= CHUNK_PIXELS or index == len(pixels) - 1:
                    chunks.append((start, index + 1))
                    start, load = index + 1, 0
            parts = await all_or_none(
                self.compute.in_process(preprocess_all, payloads[a:b], a, numbered, limit)
                for a, b in chunks
            )
            digits = np.concatenate(parts)
        return digits.reshape(len(digits), -1)

    async def predict(
        self,
        target: Target,
        columns: Columns,
        after: list[Callable[[], None]] | None = None,
    ) -> Prediction:
        """The version's outputs for every row of `columns` (one array per signature input),
        counted in the metrics. With a shadow, its comparison is appended to `after`, the work
        started once the response is sent."""
        model, shadow = target.model, target.shadow
        started = time.perf_counter()  # with batching, the wait for the batch is included
        rows = rows_of(columns)
        if model.cost.estimate(rows) <= INLINE_SECONDS:
            tensors = to_tensors(model.signature, columns)
            outputs = await self.batchers.run(model.runtime, tensors)
        else:
            step = max(1, int(CHUNK_SECONDS / max(model.cost.row_seconds, 1e-9)))
            parts = await all_or_none(
                self.compute.in_thread(
                    run_columns, model, take(columns, i, i + step), key=model.metadata.name
                )
                for i in range(0, rows, step)
            )
            outputs = join(parts)
        prediction = Prediction(model, outputs)
        name = model.metadata.name
        self.metrics.observe_predict(name, time.perf_counter() - started)
        if prediction.is_classifier:
            labels = prediction.labels
            winners = np.bincount(prediction.class_indices, minlength=len(labels)).tolist()
            for index, count in enumerate(winners):
                if count:  # one counter update per label, not per row
                    self.metrics.count_predictions(name, labels[index], count)
        else:
            version = model.metadata.version
            self.metrics.observe_values(name, version, prediction.values)
        captured = self.payloads.wanted()
        classes = prediction.class_indices if prediction.is_classifier else None
        self.drift.append(model, columns, classes)
        if shadow is not None and after is not None:
            # A captured request's shadow answer is captured too, once it is scored.
            then = self.payloads.shadowed(shadow, columns) if captured else None
            after.append(lambda: self.shadows.submit(model, shadow, columns, outputs, then))
        if captured:
            other = shadow.metadata.version if shadow is not None else None
            self.payloads.capture(model, target.route, other, columns, outputs, after)
        return prediction
