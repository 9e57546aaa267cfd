"""Run a loaded model on a batch and shape its answer."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from app.batching import Batchers
from app.metrics import Metrics
from app.registry import LoadedModel
from app.runtimes.base import Array, Batch


async def predict(
    model: LoadedModel, batch: Batch, metrics: Metrics, batchers: Batchers
) -> dict[str, Any]:
    """The PredictResponse body: one prediction per row, in order, with every class's
    probability. A plain dict, ready for orjson: building pydantic objects per row cost more
    than the model."""
    started = time.perf_counter()  # with batching, the wait for the batch is included
    probabilities = await batchers.predict_proba(model.runtime, batch)
    metrics.observe_predict(model.metadata.name, time.perf_counter() - started)
    return shape(model, probabilities, metrics)


def shape(model: LoadedModel, probabilities: Array, metrics: Metrics) -> dict[str, Any]:
    """Turn rows of probabilities into the response body and count the predicted labels."""
    labels = model.metadata.class_labels
    winners = probabilities.argmax(axis=1)
    for index, count in enumerate(np.bincount(winners, minlength=len(labels)).tolist()):
        if count:  # one counter update per label, not per row
            metrics.count_predictions(model.metadata.name, labels[index], count)
    rounded = np.round(probabilities, 6).tolist()
    predictions = [
        {
            "label": labels[index],
            "class_index": index,
            "probabilities": dict(zip(labels, row, strict=True)),
        }
        for index, row in zip(winners.tolist(), rounded, strict=True)
    ]
    return {
        "model": model.metadata.name,
        "version": model.metadata.version,
        "predictions": predictions,
    }
