"""The native dialect's data plane: /v1/models/{name}[/versions/{version}]/predict[/image].

Each handler decodes the request, calls the data plane, and encodes its answer; errors are
rendered in the one error shape by native_codec.error_reply.
"""

from __future__ import annotations

from app.core.dataplane import DataPlane, Prediction, Target
from app.errors import InvalidRequestError, UnsupportedInputError, UnsupportedMediaTypeError
from app.front.asgi import header, media_type
from app.imaging.preprocess import MEDIA_TYPES, digits_png
from app.protocols import native_docs
from app.protocols.multipart import file_parts
from app.protocols.native_codec import (
    JSON_TYPE,
    PredictOptions,
    decode_instances,
    error_reply,
    prediction_body,
    read_options,
)
from app.protocols.paths import resolve
from app.protocols.routing import Call, DataRoute, Reply
from app.registry.registry import LoadedModel

RAW_IMAGE_TYPES = frozenset((*MEDIA_TYPES, "application/octet-stream"))


def _options(call: Call, model: LoadedModel) -> PredictOptions:
    return read_options(call.scope.get("query_string", b""), len(model.metadata.class_labels))


def _reply(prediction: Prediction, options: PredictOptions) -> Reply:
    metadata = prediction.model.metadata
    body = prediction_body(
        metadata.name, metadata.version, metadata.class_labels, prediction.probabilities, options
    )
    return Reply(200, body, [JSON_TYPE, (b"x-model-version", str(metadata.version).encode())])


async def predict(plane: DataPlane, call: Call) -> Reply:
    """{"instances": [...]} -> one prediction per row, in order."""
    declared = media_type(call.scope)
    if declared != "application/json" and not declared.endswith("+json"):
        raise UnsupportedMediaTypeError(
            f"Content type '{declared or 'none'}' is not accepted: send application/json "
            'like {"instances": [[...]]}, or images to the /predict/image route.'
        )
    target = resolve(plane, call)
    model = target.model
    options = _options(call, model)
    spec, limit = model.metadata.input, plane.settings.max_batch_rows
    batch = await plane.decode(len(call.body), decode_instances, call.body, spec, limit)
    return _reply(await plane.predict(target, batch, call.after), options)


def _image_model(plane: DataPlane, call: Call) -> Target:
    """The version the path names, if its model takes images."""
    target = resolve(plane, call)
    model = target.model
    if model.metadata.input.kind != "image":
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
        payloads: list[bytes] = await plane.decode(
            len(call.body), file_parts, call.body, content_type, b"file", limit
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
    batch = await plane.images(await _image_payloads(plane, call))
    return _reply(await plane.predict(target, batch, call.after), options)


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
