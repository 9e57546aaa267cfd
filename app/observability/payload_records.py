"""A captured request as JSON: what was asked (the decoded inputs, by column) and what was
answered (label and probabilities, or values). Built in the payload writer's thread, never on
the event loop: the core only hands over references to its arrays."""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
import orjson

from app.registry import outputs as roles
from app.registry.signature import Column, Signature
from app.registry.tensors import Columns, MatrixColumns, rows_of
from app.runtimes.base import Outputs

if TYPE_CHECKING:
    from app.observability.request_ids import RequestContext
    from app.registry.registry import LoadedModel

Images = Literal["digit", "sha256"]
# NaN (a gap) and infinities are written as null; numpy arrays directly, without lists.
OPTIONS = orjson.OPT_SERIALIZE_NUMPY
DIGIT_DECIMALS = 2


class SinkError(Exception):
    """A sink could not take some records: why, and how many were lost (0 when all were kept,
    but something still went wrong, such as a segment left to be recovered)."""

    def __init__(self, message: str, lost: int) -> None:
        super().__init__(message)
        self.lost = lost


class Capture(NamedTuple):
    """One answered request, as the core saw it."""

    request: RequestContext
    model: LoadedModel
    route: str  # pinned, label, canary or latest (app/registry/registry.py)
    shadow_version: int | None  # the version that also scores it off the request path
    columns: Columns
    outputs: Outputs
    latency_seconds: float  # from the request's arrival to its response handed to the socket


def _text(value: Any) -> str:
    return str(value)


def _image(column: Column, values: Any, images: Images) -> Any:
    pixels = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    if images == "sha256":
        return [hashlib.sha256(row.astype("<f4").tobytes()).hexdigest() for row in pixels]
    shape = column.shape or [pixels.shape[1]]
    return np.round(pixels, DIGIT_DECIMALS).reshape(len(pixels), *shape)


def inputs(signature: Signature, columns: Columns, images: Images) -> dict[str, Any]:
    """Each input column as the core got it: numbers (null for a gap), text, or an image as the
    28x28 digit the model saw (or its SHA-256)."""
    if isinstance(columns, MatrixColumns):  # numbers side by side: one copy for all columns
        return dict(zip(columns.names, np.ascontiguousarray(columns.matrix.T), strict=True))
    result: dict[str, Any] = {}
    for column in signature.inputs:
        values = columns[column.name]
        if column.type == "image":
            result[column.name] = _image(column, values, images)
        elif values.dtype == object:
            result[column.name] = values.tolist()
        else:
            result[column.name] = np.ascontiguousarray(values)  # a view of a matrix's column
    return result


def _numbers(given: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """An output's [n, k] numbers; float32 kept float32, written with the digits the model
    answered, not more."""
    numbers = given.reshape(len(given), -1)
    return numbers if numbers.dtype.kind == "f" else numbers.astype(np.float64)


def answers(signature: Signature, outputs: Outputs) -> dict[str, Any]:
    """A classifier's label per row and probability per class, or a regressor's value per row
    (a list per row when it answers several), as the native dialect answers them."""
    roles_of = signature.outputs
    if signature.task == "regression":
        assert roles_of.value is not None
        values = _numbers(outputs[roles_of.value])
        return {"value": values[:, 0].copy() if values.shape[1] == 1 else values}
    assert signature.classes is not None
    labels = signature.classes.labels
    if roles_of.probabilities is None:  # a label output only: one-hot
        scores = roles.probabilities(signature, outputs)
        return {"label": [labels[i] for i in scores.argmax(axis=1).tolist()]}
    scores = _numbers(outputs[roles_of.probabilities])
    return {
        "label": [labels[i] for i in scores.argmax(axis=1).tolist()],
        "probabilities": dict(zip(labels, np.ascontiguousarray(scores.T), strict=True)),
    }


_second: tuple[int, str] = (0, "")  # the last second written, cached: one thread writes


def _when(seconds: float) -> str:
    """ISO 8601 in UTC, to the millisecond."""
    global _second
    whole = int(seconds)
    if _second[0] != whole:
        _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{_second[1]}.{int((seconds - whole) * 1000):03d}Z"


def asked(capture: Capture, images: Images) -> dict[str, Any]:
    """The request's part: who asked what of which version, and how it got there."""
    metadata = capture.model.metadata
    return {
        "id": capture.request.id,
        "time": _when(capture.request.time),
        "model": metadata.name,
        "version": metadata.version,
        "route": capture.route,
        "shadow_version": capture.shadow_version,
        "rows": rows_of(capture.columns),
        "inputs": inputs(capture.model.signature, capture.columns, images),
    }


def answered(capture: Capture) -> dict[str, Any]:
    """The response's part: what the version answered, and how long the request took."""
    return {
        "latency_ms": round(capture.latency_seconds * 1000, 3),
        "outputs": answers(capture.model.signature, capture.outputs),
    }


def encode(document: dict[str, Any]) -> bytes:
    return orjson.dumps(document, default=_text, option=OPTIONS)


def line(capture: Capture, images: Images) -> bytes:
    """One JSON Lines record: the request's part and the response's, then a newline."""
    return encode({**asked(capture, images), **answered(capture)}) + b"\n"
