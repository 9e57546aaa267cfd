"""The native dialect's data plane: /v1/models/{name}[/versions/{version}]/predict[/image].

Each handler decodes the request, calls the data plane, and encodes its answer; errors are
rendered in the one error shape by native_codec.error_reply.
"""

from __future__ import annotations

from typing import Any

from app.core.columns import matrix_columns
from app.core.dataplane import DataPlane, Prediction, Target
from app.errors import InvalidRequestError, UnsupportedInputError, UnsupportedMediaTypeError
from app.front.asgi import header, media_type
from app.imaging.preprocess import MEDIA_TYPES, digits_png
from app.protocols import native_docs
from app.protocols.csv_codec import CSV_TYPE, classes_csv, decode_csv, values_csv
from app.protocols.multipart import file_parts
from app.protocols.native_codec import (
    JSON_TYPE,
    PredictOptions,
    error_reply,
    prediction_body,
    read_options,
    value_body,
)
from app.protocols.native_request import decode_instances
from app.protocols.paths import resolve
from app.protocols.routing import Call, DataRoute, Reply
from app.registry.registry import LoadedModel

RAW_IMAGE_TYPES = frozenset((*MEDIA_TYPES, "application/octet-stream"))


def _options(call: Call, model: LoadedModel) -> PredictOptions:
    classes = model.signature.classes
    return read_options(
        call.scope.get("query_string", b""), len(classes.labels) if classes else None
    )


def wants_csv(call: Call) -> bool:
    """Whether the client asks for CSV: text/csv named in Accept before any JSON type."""
    accept = (header(call.scope, b"accept") or b"").decode("latin-1").lower()
    for item in accept.split(","):
        kind = item.split(";")[0].strip()
        if kind == "text/csv":
            return True
        if kind in ("application/json", "application/*", "*/*") or kind.endswith("+json"):
            return False
    return False


def _reply(prediction: Prediction, options: PredictOptions, as_csv: bool = False) -> Reply:
    metadata = prediction.model.metadata
    version = (b"x-model-version", str(metadata.version).encode())
    if as_csv:
        if prediction.is_classifier:
            body = classes_csv(prediction.labels, prediction.probabilities, options.probabilities)
        else:
            body = values_csv(prediction.values, prediction.model.signature.targets)
        return Reply(200, body, [CSV_TYPE, version])
    if prediction.is_classifier:
        body = prediction_body(
            metadata.name, metadata.version, prediction.labels, prediction.probabilities, options
        )
    else:
        body = value_body(metadata.name, metadata.version, prediction.values)
    return Reply(200, body, [JSON_TYPE, version])


async def predict(plane: DataPlane, call: Call) -> Reply:
    """A JSON body ({"instances": [...]}, {"inputs": {...}}, MLflow's dataframe_split or
    dataframe_records) or a text/csv body -> one prediction per row, in order; as CSV when
    the client accepts text/csv."""
    declared = media_type(call.scope)
    if declared == "text/csv":
        decoder: Any = decode_csv
    elif declared == "application/json" or declared.endswith("+json"):
        decoder = decode_instances
    else:
        raise UnsupportedMediaTypeError(
            f"Content type '{declared or 'none'}' is not accepted: send application/json "
            'like {"instances": [[...]]}, text/csv with a header row, or images to the '
            "/predict/image route."
        )
    target = resolve(plane, call)
    model = target.model
    options = _options(call, model)
    as_csv = wants_csv(call)
    if as_csv and options.top_k is not None:
        raise InvalidRequestError(
            "query.top_k: not available with Accept: text/csv (every class is a column)",
            [{"loc": ["query", "top_k"], "message": "not available with text/csv"}],
        )
    limit = plane.settings.max_batch_rows
    columns = await plane.decode(len(call.body), decoder, call.body, model.signature, limit)
    return _reply(await plane.predict(target, columns, call.after), options, as_csv)


def _image_model(plane: DataPlane, call: Call) -> Target:
    """The version the path names, if its model takes images."""
    target = resolve(plane, call)
    model = target.model
    if not model.signature.is_image:
        raise UnsupportedInputError(
            f"Model '{model.metadata.name}' takes tabular rows, not images: "
            f"POST JSON to /v1/models/{model.metadata.name}/predict."
        )
    return target


async def _image_payloads(plane: DataPlane, call: Call) -> list[bytes]:
    """The uploaded images: multipart `file` parts or one raw body."""
    declared, limit = media_type(call.scope), plane.settings.max_batch_rows
    if declared == "multipart/form-data":
        content_type = header(call.scope, b"content-type") or b""
        parts = call.body.count(b"\r\n--")  # about one a part: many parts, many images
        payloads: list[bytes] = await plane.decode(
            len(call.body), file_parts, call.body, content_type, b"file", limit, items=parts
        )
        return payloads
    if declared in RAW_IMAGE_TYPES:
        return [call.body]
    raise UnsupportedMediaTypeError(
        f"Content type '{declared or 'none'}' is not accepted: send multipart/form-data "
        f"with one or more 'file' parts, or a raw body of type {', '.join(MEDIA_TYPES)}."
    )


async def predict_image(plane: DataPlane, call: Call) -> Reply:
    """Images, as multipart `file` parts or one raw body -> one prediction per image."""
    target = _image_model(plane, call)
    options = _options(call, target.model)
    digits = await plane.images(await _image_payloads(plane, call))
    columns = matrix_columns(target.model.signature, digits)
    return _reply(await plane.predict(target, columns, call.after), options)


async def preprocess_image(plane: DataPlane, call: Call) -> Reply:
    """Images as for predict/image -> the 28x28 digits the model would see, side by side in
    one greyscale PNG, for debugging."""
    _image_model(plane, call)
    if call.scope.get("query_string"):
        raise InvalidRequestError(
            "query: preprocess/image takes no query parameters",
            [{"loc": ["query"], "message": "no parameters are taken"}],
        )
    digits = await plane.images(await _image_payloads(plane, call))
    return Reply(200, digits_png(digits), [(b"content-type", b"image/png")])


POST = frozenset({"POST"})
PREFIX = "/v1/models/{name}"
ROUTES = [
    DataRoute(PREFIX + "/predict", POST, predict, error_reply, native_docs.PREDICT_LATEST),
    DataRoute(
        PREFIX + "/versions/{version}/predict",
        POST,
        predict,
        error_reply,
        native_docs.PREDICT_VERSION,
    ),
    DataRoute(
        PREFIX + "/labels/{label}/predict", POST, predict, error_reply, native_docs.PREDICT_LABEL
    ),
    DataRoute(
        PREFIX + "/predict/image", POST, predict_image, error_reply, native_docs.IMAGE_LATEST
    ),
    DataRoute(
        PREFIX + "/labels/{label}/predict/image",
        POST,
        predict_image,
        error_reply,
        native_docs.IMAGE_LABEL,
    ),
    DataRoute(
        PREFIX + "/versions/{version}/predict/image",
        POST,
        predict_image,
        error_reply,
        native_docs.IMAGE_VERSION,
    ),
    DataRoute(
        PREFIX + "/preprocess/image", POST, preprocess_image, error_reply, native_docs.PREPROCESS
    ),
]
