"""The Open Inference Protocol's answers: infer outputs as JSON tensors or binary (the binary
tensor data extension), top-k strings (the classification extension), and errors as
{"error": "<message>"}."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from app.core.dataplane import Prediction
from app.errors import ServiceError
from app.protocols.native_codec import JSON_TYPE, MAX_MESSAGE_CHARS, dump
from app.protocols.routing import Reply
from app.protocols.v2_request import RequestedOutput

BINARY_TYPE = (b"content-type", b"application/octet-stream")
HEADER_LENGTH = b"inference-header-content-length"
# The spec and KServe answer bad input with 400, where the native dialect says 422 or 415.
STATUS = {422: 400, 415: 400}


def error_reply(exc: ServiceError) -> Reply:
    """A ServiceError as the V2 dialect answers it: {"error": "<message>"}."""
    message = str(exc)
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS] + "..."
    headers = [
        (name.lower().encode(), value.encode()) for name, value in (exc.headers or {}).items()
    ]
    status = STATUS.get(exc.status_code, exc.status_code)
    return Reply(status, dump({"error": message}), [JSON_TYPE, *headers])


def json_reply(document: Any, status: int = 200) -> Reply:
    return Reply(status, orjson.dumps(document), [JSON_TYPE])


def _strings_binary(values: list[str]) -> bytes:
    """BYTES elements as the extension sends them: a 4-byte little-endian length, then data."""
    parts = []
    for value in values:
        data = value.encode()
        parts.append(len(data).to_bytes(4, "little"))
        parts.append(data)
    return b"".join(parts)


def _top_k(probabilities: npt.NDArray[np.float32], labels: list[str], count: int) -> list[str]:
    """Each row's `count` most probable classes as "score:index:label", most probable first
    (equal scores in class order), row after row."""
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :count]
    return [
        f"{str(row[index])}:{index}:{labels[index]}"
        for row, best in zip(probabilities, order.tolist(), strict=True)
        for index in best
    ]


def _values(values: npt.NDArray[np.float64]) -> tuple[dict[str, Any], Any]:
    """A regressor's values: [n] for one target, [n, targets] for several."""
    if values.shape[1] == 1:
        values = values[:, 0]
    return {"name": "value", "datatype": "FP64", "shape": list(values.shape)}, values.reshape(-1)


def _tensor(
    output: RequestedOutput,
    labels: list[str],
    winners: list[int],
    probabilities: npt.NDArray[np.float32],
) -> tuple[dict[str, Any], Any]:
    """One classifier output's metadata (name, datatype, shape) and its values."""
    rows = len(winners)
    if output.name == "label":
        values: Any = [labels[i] for i in winners]
        return {"name": "label", "datatype": "BYTES", "shape": [rows]}, values
    if output.name == "class_index":
        return {"name": "class_index", "datatype": "INT64", "shape": [rows]}, winners
    if output.classification:
        strings = _top_k(probabilities, labels, output.classification)
        shape = [rows, output.classification]
        return {"name": output.name, "datatype": "BYTES", "shape": shape}, strings
    shape = list(probabilities.shape)
    return {"name": output.name, "datatype": "FP32", "shape": shape}, probabilities.reshape(-1)


def _binary(tensor: dict[str, Any], values: Any) -> bytes:
    if tensor["datatype"] == "BYTES":
        return _strings_binary(values)
    if tensor["datatype"] == "INT64":
        return np.asarray(values, dtype="<i8").tobytes()
    if tensor["datatype"] == "FP64":
        return np.ascontiguousarray(values, dtype="<f8").tobytes()
    return bytes(values.tobytes())


def infer_reply(
    name: str,
    version: int,
    request_id: str | None,
    prediction: Prediction,
    outputs: tuple[RequestedOutput, ...],
) -> Reply:
    """The inference response: JSON, or its JSON header then the binary outputs in order."""
    document: dict[str, Any] = {"model_name": name, "model_version": str(version)}
    if request_id is not None:
        document["id"] = request_id
    if prediction.is_classifier:
        probabilities, labels = prediction.probabilities, prediction.labels
        scores = probabilities.astype(np.float32)
        winners = probabilities.argmax(axis=1).tolist()
    tensors, binary = [], []
    for output in outputs:
        if output.name == "value":
            tensor, values = _values(prediction.values)
        else:
            tensor, values = _tensor(output, labels, winners, scores)
        if output.binary:
            data = _binary(tensor, values)
            tensor["parameters"] = {"binary_data_size": len(data)}
            binary.append(data)
        else:
            tensor["data"] = values
        tensors.append(tensor)
    document["outputs"] = tensors
    header = orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY)
    if not binary:
        return Reply(200, header, [JSON_TYPE])
    length = (HEADER_LENGTH, str(len(header)).encode())
    return Reply(200, b"".join([header, *binary]), [BINARY_TYPE, length])
