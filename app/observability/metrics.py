"""Prometheus metrics, created on a CollectorRegistry the app owns (tests never clash).

With several uvicorn workers (SERVING_WORKERS > 1) every worker writes its values to files in a
shared folder (prometheus_client's multiprocess mode, chosen by PROMETHEUS_MULTIPROC_DIR before
the first metric exists: `python -m app` sets it), and a scrape, answered by any one worker, sums
them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# A regressor's values may be of any scale: powers of ten on both sides of zero.
_POWERS = tuple(10.0**p for p in range(-2, 7))
SMALL_BATCH = 64
VALUE_BUCKETS = (*(-b for b in reversed(_POWERS)), 0.0, *_POWERS)


class _Children:
    """A labelled metric's children, found in a dict: prometheus_client's `labels()` checks and
    locks on every call, which a one-row request felt (four calls, ~10 us)."""

    def __init__(self, metric: Any) -> None:
        self._metric = metric
        self._children: dict[tuple[str, ...], Any] = {}

    def __call__(self, *values: str) -> Any:
        child = self._children.get(values)
        if child is None:  # label sets are bounded: model names, versions, route templates
            child = self._children[values] = self._metric.labels(*values)
        return child


class Metrics:
    """Every metric the server exports; `multiprocess_dir`: the workers' shared folder, whose
    files `exposition()` sums (None: this process's values only)."""

    def __init__(self, multiprocess_dir: Path | None = None) -> None:
        self.registry = CollectorRegistry()
        self.multiprocess_dir = multiprocess_dir
        self.requests = Counter(
            "serving_requests_total",
            "HTTP requests by model, version, endpoint and status code.",
            ["model", "version", "endpoint", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "serving_request_seconds",
            "Time from request start to the last byte of the response, by endpoint.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.predict_latency = Histogram(
            "serving_predict_seconds",
            "Time spent in the model itself, by model.",
            ["model"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "serving_predictions_total",
            "Predicted rows by model and predicted class.",
            ["model", "label"],
            registry=self.registry,
        )
        self.models_loaded = Gauge(
            "serving_models_loaded",
            "Model versions loaded and ready.",
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.models_failed = Gauge(
            "serving_models_failed",
            "Model versions that failed to load.",
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.load_seconds = Gauge(
            "serving_model_load_seconds",
            "Seconds taken to verify and load each model version.",
            ["model", "version"],
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.shadow_rows = Counter(
            "serving_shadow_rows_total",
            "Rows a shadow version scored after the answering version, by outcome: agree or "
            "disagree (same label or not), compared (regressors: see "
            "serving_shadow_value_diff_total), dropped (the shadow queue was full).",
            ["model", "version", "shadow_version", "outcome"],
            registry=self.registry,
        )
        self.shadow_abs_diff = Counter(
            "serving_shadow_abs_probability_diff_total",
            "Sum over compared rows of the mean absolute probability difference between a "
            "version and its shadow (divide by the agree and disagree rows for the mean).",
            ["model", "version", "shadow_version"],
            registry=self.registry,
        )
        self.shadow_value_diff_total = Counter(
            "serving_shadow_value_diff_total",
            "Regressors: sum over compared rows of the mean absolute (kind=abs) and relative "
            "(kind=rel) difference between a version's values and its shadow's.",
            ["model", "version", "shadow_version", "kind"],
            registry=self.registry,
        )
        self.predicted_values = Histogram(
            "serving_predicted_values",
            "Regressors: the values predicted, by model and version.",
            ["model", "version"],
            buckets=VALUE_BUCKETS,
            registry=self.registry,
        )
        self.payloads_written = Counter(
            "serving_payloads_written_total",
            "Captured requests written to the payload log (SERVING_PAYLOAD_LOG).",
            registry=self.registry,
        )
        self.payloads_dropped = Counter(
            "serving_payloads_dropped_total",
            "Captured requests not written, by reason: queue_full (the writer was behind), "
            "sink_failed (the folder or URL refused them), encode_failed.",
            ["reason"],
            registry=self.registry,
        )
        self.payload_segments_removed = Counter(
            "serving_payload_segments_removed_total",
            "Payload log segments removed, oldest first, to keep SERVING_PAYLOAD_MAX_BYTES.",
            registry=self.registry,
        )
        self.drift_psi = Gauge(
            "serving_drift_psi",
            "Population stability index of an input column over the version's drift window "
            "against its training data (0.1: watch, 0.25: drifted); set when /metrics or "
            "/drift is read, once the window holds enough rows.",
            ["model", "version", "feature"],
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.prediction_drift_psi = Gauge(
            "serving_prediction_drift_psi",
            "Classifiers: population stability index of the predicted class mix over the drift "
            "window against the eval set's.",
            ["model", "version"],
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self._values = _Children(self.predicted_values)
        self._requests = _Children(self.requests)
        self._latency = _Children(self.latency)
        self._predict_latency = _Children(self.predict_latency)
        self._predictions = _Children(self.predictions)

    def exposition(self) -> bytes:
        """The Prometheus text of a scrape: every worker's values summed in multiprocess mode
        (gauges: the value a worker set last, as every worker loads the same registry)."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
        return generate_latest(merged)

    def count_request(
        self, model: str, version: str, endpoint: str, status: str, seconds: float
    ) -> None:
        self._requests(model, version, endpoint, status).inc()
        self._latency(endpoint).observe(seconds)

    def observe_predict(self, model: str, seconds: float) -> None:
        self._predict_latency(model).observe(seconds)

    def count_predictions(self, model: str, label: str, count: int) -> None:
        self._predictions(model, label).inc(count)

    def count_shadow(
        self, model: str, version: int, shadow_version: int, outcome: str, rows: int
    ) -> None:
        self.shadow_rows.labels(model, str(version), str(shadow_version), outcome).inc(rows)

    def shadow_diff(self, model: str, version: int, shadow_version: int, total: float) -> None:
        self.shadow_abs_diff.labels(model, str(version), str(shadow_version)).inc(total)

    def shadow_value_diff(
        self, model: str, version: int, shadow_version: int, absolute: float, relative: float
    ) -> None:
        labels = (model, str(version), str(shadow_version))
        self.shadow_value_diff_total.labels(*labels, "abs").inc(absolute)
        self.shadow_value_diff_total.labels(*labels, "rel").inc(relative)

    def observe_values(self, model: str, version: int, values: npt.NDArray[np.float64]) -> None:
        """A regressor's predicted values (every output of every row), counted per bucket with
        numpy: observe() per value cost ~1 us each, 0.1 s for a 100,000-row CSV body."""
        child = self._values(model, str(version))
        if values.size <= SMALL_BATCH:
            for value in values.ravel().tolist():
                child.observe(value)
            return
        # prometheus_client keeps per-bucket (not cumulative) counts: a value lands in the
        # first bucket whose upper bound is at least the value, as observe() does.
        bounds = np.asarray(child._upper_bounds)
        counts = np.bincount(np.searchsorted(bounds, values.ravel()), minlength=len(bounds))
        for bucket, count in zip(child._buckets, counts.tolist(), strict=True):
            if count:
                bucket.inc(count)
        child._sum.inc(float(values.sum()))
