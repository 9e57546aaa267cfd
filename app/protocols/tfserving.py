"""TF Serving's REST predict API (also KServe's V1 protocol): POST
/v1/models/{name}[/versions/{version}]:predict.

A request holds rows, {"instances": [...]} (lists in signature order, or objects by column),
or columns, {"inputs": {"column": [...], ...}}; each prediction is the list of the class
probabilities, in the order of `class_labels` in the model's metadata (GET /v1/models/{name}),
or a regressor's value (a list of values when it answers several). Images go as
{"b64": "<base64 PNG/JPEG/...>"} instances, TF Serving's way of sending bytes. Errors are
{"error": "<message>"}, as TF Serving sends them.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import numpy as np
import orjson

from app.core.columns import matrix_columns, rows_to_columns
from app.core.dataplane import DataPlane
from app.errors import InvalidInputError, InvalidRequestError, PayloadTooLargeError
from app.protocols import native_docs
from app.protocols.native_codec import JSON_TYPE, read_json, value_budget
from app.protocols.paths import resolve
from app.protocols.routing import Call, DataRoute, Reply
from app.protocols.v2_response import error_reply
from app.registry.columns import check_rows, from_columns
from app.registry.signature import LEGACY_TENSOR, Signature
from app.registry.tensors import Columns

FIELDS = frozenset({"instances", "inputs", "signature_name"})
SIGNATURE = "serving_default"
Decoded = tuple[Columns | None, list[bytes] | None, bool]


def _images(items: list[Any]) -> list[bytes] | None:
    """The bytes of {"b64": ...} items, or None when the items are not all of that form."""
    if not all(type(item) is dict and set(item) == {"b64"} for item in items):
        return None
    try:
        return [base64.b64decode(item["b64"], validate=True) for item in items]
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidInputError('A {"b64": ...} value is not valid base64.') from exc


def _whole_tensor(key: str, signature: Signature) -> bool:
    """Whether an `inputs` key names the one tensor of the artifact rather than a column."""
    if key in signature.name_set or len(signature.tensors) != 1:
        return False
    return key in (LEGACY_TENSOR, signature.tensors[0].name)


def _columns(inputs: dict[str, Any], signature: Signature, max_rows: int) -> Columns:
    """Columnar inputs: one list per column; or, where the artifact takes one tensor, that
    tensor by name (or by "input", the name it had before signatures) holding the rows."""
    if len(inputs) == 1 and _whole_tensor(next(iter(inputs)), signature):
        rows = next(iter(inputs.values()))
        if type(rows) is not list or not rows:
            raise InvalidRequestError("instances (or inputs) must be a non-empty list.")
        return rows_to_columns(rows, signature, max_rows, "inputs")
    columns = list(inputs.values())
    if not all(type(column) is list for column in columns) or not columns:
        raise InvalidRequestError(
            f"inputs: an object holds one list per column ({', '.join(signature.names)})."
        )
    length = len(columns[0])
    if any(len(column) != length for column in columns):
        raise InvalidRequestError("inputs: every feature's list must have the same length.")
    if not length:
        raise InvalidRequestError("instances (or inputs) must be a non-empty list.")
    check_rows(length, max_rows)
    return from_columns(inputs, signature)


def decode_predict(body: bytes, signature: Signature, max_rows: int) -> Decoded:
    """A :predict body -> (columns, or encoded images, and whether it was columnar)."""
    document = read_json(body, value_budget(signature, max_rows))
    if type(document) is not dict or len({"instances", "inputs"} & set(document)) != 1:
        raise InvalidRequestError(
            'The body is an object with "instances" (a list of rows) or "inputs" (columns).'
        )
    unknown = next((key for key in document if key not in FIELDS), None)
    if unknown is not None:
        raise InvalidRequestError(
            f"Unknown field '{unknown[:64]}'; a predict body takes {', '.join(sorted(FIELDS))}."
        )
    if document.get("signature_name", SIGNATURE) != SIGNATURE:
        raise InvalidRequestError(f"The models have one signature, '{SIGNATURE}'.")
    columnar = "inputs" in document
    items = document["inputs"] if columnar else document["instances"]
    if columnar and type(items) is dict and not signature.is_image:
        return _columns(items, signature, max_rows), None, columnar
    if type(items) is not list or not items:
        raise InvalidRequestError("instances (or inputs) must be a non-empty list.")
    images = _images(items) if signature.is_image else None
    if images is not None:
        if len(images) > max_rows:
            raise PayloadTooLargeError(f"{len(images)} images in one request; at most {max_rows}.")
        return None, images, columnar
    return rows_to_columns(items, signature, max_rows), None, columnar


async def predict(plane: DataPlane, call: Call) -> Reply:
    target = resolve(plane, call)
    model = target.model
    limit = plane.settings.max_batch_rows
    columns, images, columnar = await plane.decode(
        len(call.body), decode_predict, call.body, model.signature, limit
    )
    if images is not None:
        columns = matrix_columns(model.signature, await plane.images(images))
    assert columns is not None
    prediction = await plane.predict(target, columns, call.after)
    if prediction.is_classifier:
        answers: Any = prediction.probabilities.astype(np.float32)
    else:
        values = prediction.values
        answers = values[:, 0] if values.shape[1] == 1 else values
    key = "outputs" if columnar else "predictions"
    body = orjson.dumps({key: answers}, option=orjson.OPT_SERIALIZE_NUMPY)
    version = str(model.metadata.version).encode()
    return Reply(200, body, [JSON_TYPE, (b"x-model-version", version)])


ERRORS = {
    "400": "Bad input: body, rows, columns or values (the message says which)",
    "404": "Unknown model or version",
    "413": "Body, rows, images or pixels over their limits",
    "503": "The version failed to load, or the server is at its in-flight limit",
    "504": "The request outlived its deadline",
}
ROWS = {"type": "array", "minItems": 1, "items": {}}
BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "instances": ROWS,
                    "inputs": {"anyOf": [ROWS, {"type": "object"}]},
                    "signature_name": {"type": "string", "enum": [SIGNATURE]},
                },
                "additionalProperties": False,
            },
            "example": {"instances": [[5.1, 3.5, 1.4, 0.2]]},
        }
    },
}
ERROR_SCHEMA = {"type": "object", "properties": {"error": {"type": "string"}}}


def _operation(pinned: dict[str, Any] | None, suffix: str) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {
            "description": "predictions (rows) or outputs (columns): each the class "
            "probabilities, in the order of the metadata's class_labels, or a regressor's "
            "value (a list of values when it answers several)",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    }
    for status, text in ERRORS.items():
        responses[status] = {
            "description": text,
            "content": {"application/json": {"schema": ERROR_SCHEMA}},
        }
    return {
        "tags": ["tf serving (kserve v1)"],
        "summary": "TF Serving predict" + (f", by {suffix}" if suffix else ""),
        "operationId": "tfserving_predict" + (f"_{suffix}" if suffix else ""),
        "parameters": [native_docs.NAME, *([pinned] if pinned else [])],
        "requestBody": BODY,
        "responses": responses,
    }


POST = frozenset({"POST"})
ROUTES = [
    DataRoute("/v1/models/{name}:predict", POST, predict, error_reply, _operation(None, "")),
    DataRoute(
        "/v1/models/{name}/versions/{version}:predict",
        POST,
        predict,
        error_reply,
        _operation(native_docs.VERSION, "version"),
    ),
    DataRoute(
        "/v1/models/{name}/labels/{label}:predict",
        POST,
        predict,
        error_reply,
        _operation(native_docs.LABEL, "label"),
    ),
]
