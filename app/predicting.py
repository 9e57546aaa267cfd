"""Run a loaded model on a batch and shape its answer."""

from __future__ import annotations

import time

import numpy as np

from app.metrics import Metrics
from app.registry import LoadedModel
from app.runtimes.base import Batch
from app.schemas import Prediction, PredictResponse


def predict(model: LoadedModel, batch: Batch, metrics: Metrics) -> PredictResponse:
    """One prediction per row, in order, with every class's probability."""
    started = time.perf_counter()
    probabilities = model.runtime.predict_proba(batch)
    metrics.predict_latency.labels(model.metadata.name).observe(time.perf_counter() - started)
    labels = model.metadata.class_labels
    winners = probabilities.argmax(axis=1)
    rounded = np.round(probabilities, 6).tolist()
    predictions = []
    for index, row in zip(winners.tolist(), rounded, strict=True):
        metrics.predictions.labels(model.metadata.name, labels[index]).inc()
        predictions.append(
            Prediction(
                label=labels[index],
                class_index=index,
                probabilities=dict(zip(labels, row, strict=True)),
            )
        )
    return PredictResponse(
        model=model.metadata.name, version=model.metadata.version, predictions=predictions
    )
