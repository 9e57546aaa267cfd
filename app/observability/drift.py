"""Drift: the last SERVING_DRIFT_WINDOW rows each version served, against its training data.

The request path only copies a batch's columns into its version's ring buffers, on the event
loop thread (no lock: nothing else writes them). A report copies the rings there too, then bins
the copy and computes the PSI (app/observability/drift_bins.py) in a thread.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from app.observability.drift_bins import Bins, class_bins, column_bins, psi
from app.observability.metrics import Metrics
from app.registry.registry import LoadedModel
from app.registry.tensors import Columns, MatrixColumns, rows_of, take

# Fewer rows than this in a window: no PSI (null), as a handful of rows says nothing.
MIN_ROWS = 100


class Window:
    """One version's last `size` rows: numbers in one float64 ring, text in one object ring,
    predicted class indices in a third; written at `position`, `rows` of them valid."""

    def __init__(self, model: LoadedModel, size: int) -> None:
        self.model, self.size, self.position, self.rows = model, size, 0, 0
        signature = model.signature
        self.bins = {c.name: column_bins(c) for c in signature.inputs if c.type != "image"}
        self.numbers = [n for n, b in self.bins.items() if b is not None and b.edges is not None]
        self.texts = [n for n, b in self.bins.items() if b is not None and b.edges is None]
        self.number_ring = np.full((size, len(self.numbers)), np.nan)
        self.text_ring = np.empty((size, len(self.texts)), dtype=object)
        labels = signature.classes.labels if signature.classes is not None else []
        self.class_bins = class_bins(labels, model.metadata.metrics) if labels else None
        self.class_ring = np.zeros(size if self.class_bins else 0, dtype=np.int64)

    def append(self, columns: Columns, classes: npt.NDArray[np.int64] | None) -> None:
        rows = len(classes) if classes is not None else rows_of(columns)
        start = self.position
        stop = start + rows
        if stop > self.size:
            self._wrap(columns, classes, rows)
            return
        if self.numbers:
            if type(columns) is MatrixColumns and columns.names == self.numbers:
                self.number_ring[start:stop] = columns.matrix  # one copy for a JSON matrix
            else:
                for index, name in enumerate(self.numbers):
                    self.number_ring[start:stop, index] = columns[name]
        for index, name in enumerate(self.texts):
            self.text_ring[start:stop, index] = columns[name]
        if classes is not None and self.class_bins is not None:
            self.class_ring[start:stop] = classes
        self.position = stop if stop < self.size else 0
        if self.rows < self.size:
            self.rows = min(self.size, self.rows + rows)

    def _wrap(self, columns: Columns, classes: npt.NDArray[np.int64] | None, rows: int) -> None:
        """A batch past the ring's end: its last `size` rows, to the end and then from 0."""
        skip = max(0, rows - self.size)
        head = skip + self.size - self.position
        for a, b in ((skip, head), (head, rows)):
            self.append(take(columns, a, b), None if classes is None else classes[a:b])

    def snapshot(self) -> Snapshot:
        rows = self.rows
        classes = self.class_ring[:rows].copy() if self.class_bins is not None else None
        numbers, texts = self.number_ring[:rows].copy(), self.text_ring[:rows].copy()
        return Snapshot(self, rows, numbers, texts, classes)


@dataclass(frozen=True)
class Snapshot:
    """A copy of a window's valid rows (in ring order: bins do not care about order)."""

    window: Window
    rows: int
    numbers: npt.NDArray[np.float64]
    texts: npt.NDArray[Any]
    classes: npt.NDArray[np.int64] | None

    def report(self) -> dict[str, Any]:
        """Per column: PSI (None below MIN_ROWS or without a reference) and both histograms."""
        window, enough = self.window, self.rows >= MIN_ROWS
        values = {name: self.numbers[:, i] for i, name in enumerate(window.numbers)}
        values.update({name: self.texts[:, i] for i, name in enumerate(window.texts)})
        features = [
            _feature(name, bins, values.get(name), enough) for name, bins in window.bins.items()
        ]
        prediction = None
        if window.class_bins is not None and self.classes is not None:
            prediction = _feature("predicted class", window.class_bins, None, enough)
            counts = np.bincount(self.classes, minlength=len(window.class_bins.labels))
            _measure(prediction, window.class_bins, counts, enough)
        metadata = window.model.metadata
        return {
            "model": metadata.name,
            "version": metadata.version,
            "window_rows": window.size,
            "rows": self.rows,
            "min_rows": MIN_ROWS,
            "enough_rows": enough,
            "features": features,
            "prediction": prediction,
        }


def _feature(name: str, bins: Bins | None, values: Any, enough: bool) -> dict[str, Any]:
    if bins is None:
        return {"name": name, "psi": None, "reference": None, "current": None}
    feature: dict[str, Any] = {"name": name, "psi": None, "edges": bins.edges}
    feature["reference"] = {"bins": bins.labels, "fractions": bins.fractions}
    if values is not None:
        _measure(feature, bins, bins.counts(values), enough)
    return feature


def _measure(feature: dict[str, Any], bins: Bins, counts: npt.NDArray[Any], enough: bool) -> None:
    total = int(counts.sum())
    fractions = counts / total if total else np.zeros(len(counts))
    feature["current"] = {"bins": bins.labels, "fractions": fractions.tolist()}
    feature["psi"] = psi(bins.fractions, fractions) if enough else None


class DriftMonitor:
    """A window per served version, and their PSI as Prometheus gauges when reported."""

    def __init__(self, size: int, metrics: Metrics) -> None:
        self.size, self.metrics = size, metrics
        # By the loaded version itself (a reloaded version starts a new window); the identity
        # check guards against a reused id. Stale windows go in refresh().
        self.windows: dict[int, Window] = {}

    def append(self, model: LoadedModel, columns: Columns, classes: Any) -> None:
        """The request path's only drift work: copy a batch into its version's window."""
        window = self.windows.get(id(model))
        if window is None or window.model is not model:
            window = self.windows[id(model)] = Window(model, self.size)
        window.append(columns, classes)

    async def report(self, model: LoadedModel) -> dict[str, Any]:
        """One version's drift (an empty report when it has served nothing yet)."""
        window = self.windows.get(id(model))
        if window is None or window.model is not model:
            window = Window(model, self.size)
        snapshot = window.snapshot()  # on the event loop, where the rings are written
        return self._publish(await asyncio.to_thread(snapshot.report))

    async def refresh(self) -> None:
        """Every window's PSI into the gauges (before a scrape)."""
        snapshots = [window.snapshot() for window in self.windows.values()]
        for report in await asyncio.to_thread(lambda: [s.report() for s in snapshots]):
            self._publish(report)

    def _publish(self, report: dict[str, Any]) -> dict[str, Any]:
        labels = (report["model"], str(report["version"]))
        for feature in report["features"]:
            if feature["psi"] is not None:
                self.metrics.drift_psi.labels(*labels, feature["name"]).set(feature["psi"])
        prediction = report["prediction"]
        if prediction is not None and prediction["psi"] is not None:
            self.metrics.prediction_drift_psi.labels(*labels).set(prediction["psi"])
        return report
