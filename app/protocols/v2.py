"""The Open Inference Protocol (KServe V2) over REST: /v2/... health, metadata, infer and the
model repository index, with the binary tensor data and classification extensions.

Each handler decodes the request, calls the data plane, and encodes its answer; errors are
rendered as {"error": "<message>"} by v2_response.error_reply.
"""

from __future__ import annotations

from typing import Any

from app.core.columns import matrix_columns
from app.core.dataplane import DataPlane
from app.errors import InvalidRequestError, NotReadyError
from app.front.asgi import header
from app.protocols import v2_docs, v2_model
from app.protocols.native_codec import read_json
from app.protocols.paths import resolve
from app.protocols.routing import Call, DataRoute, Reply
from app.protocols.v2_request import decode_infer
from app.protocols.v2_response import HEADER_LENGTH, error_reply, infer_reply, json_reply

SERVER_NAME = "modelserve"
SERVER_VERSION = "0.1.0"
EXTENSIONS = ["binary_tensor_data", "classification", "model_configuration", "model_repository"]


def _header_length(call: Call) -> int | None:
    value = header(call.scope, HEADER_LENGTH)
    if value is None:
        return None
    if not (value.isdigit() and len(value) <= 12):
        raise InvalidRequestError("Inference-Header-Content-Length must be a byte count")
    return int(value)


async def infer(plane: DataPlane, call: Call) -> Reply:
    """JSON or binary tensors in -> a classifier's label, class index and probabilities, or a
    regressor's values, out. tritonclient sends no Content-Type: the body is read as the
    protocol says, whatever it is declared as."""
    target = resolve(plane, call, version_may_be_label=True)
    metadata, signature = target.model.metadata, target.model.signature
    header_length = _header_length(call)
    size = len(call.body)
    header_size = size if header_length is None else min(header_length, size)
    request = await plane.decode_tensors(
        header_size,
        size - header_size,
        decode_infer,
        call.body,
        header_length,
        signature,
        plane.settings.max_batch_rows,
    )
    if request.images is not None:
        columns = matrix_columns(signature, await plane.images(request.images))
    else:
        assert request.columns is not None
        columns = request.columns
    prediction = await plane.predict(target, columns, call.after)
    reply = infer_reply(metadata.name, metadata.version, request.id, prediction, request.outputs)
    reply.headers.append((b"x-model-version", str(metadata.version).encode()))
    return reply


async def model_metadata(plane: DataPlane, call: Call) -> Reply:
    model = resolve(plane, call, version_may_be_label=True).model
    metadata, signature = model.metadata, model.signature
    versions = sorted(plane.registry.ready().get(metadata.name, {}))
    parameters = {
        "version": str(metadata.version),
        "dataset": metadata.dataset,
        "algorithm": metadata.algorithm,
        "task": signature.task,
        "accepts": v2_model.accepts(signature),
    }
    if signature.classes is not None:
        parameters["class_labels"] = ",".join(signature.classes.labels)
    return json_reply(
        {
            "name": metadata.name,
            "versions": [str(v) for v in versions],
            "platform": v2_model.platform(model),
            "inputs": v2_model.inputs(signature),
            "outputs": v2_model.outputs(signature),
            "parameters": parameters,
        }
    )


async def model_config(plane: DataPlane, call: Call) -> Reply:
    """Triton's model configuration, consistent with the metadata (perf_analyzer reads it)."""
    model = resolve(plane, call, version_may_be_label=True).model
    versions = sorted(plane.registry.ready().get(model.metadata.name, {}))
    return json_reply(v2_model.config(model, versions, plane.settings.max_batch_rows))


async def model_ready(plane: DataPlane, call: Call) -> Reply:
    """200 when the version (the latest when none is named) is loaded; 404 or 503 otherwise."""
    model = resolve(plane, call, version_may_be_label=True).model
    return json_reply({"name": model.metadata.name, "ready": True})


async def server_metadata(plane: DataPlane, call: Call) -> Reply:
    return json_reply({"name": SERVER_NAME, "version": SERVER_VERSION, "extensions": EXTENSIONS})


async def live(plane: DataPlane, call: Call) -> Reply:
    return json_reply({"live": True})


async def ready(plane: DataPlane, call: Call) -> Reply:
    """Ready once the registry is scanned and at least one version is loaded, as
    /health/ready: a version that failed to load never replaced a working one."""
    registry = plane.registry
    if not registry.scanned:
        raise NotReadyError("The model registry is still loading.")
    if not registry.ready():
        raise NotReadyError("No model version is loaded; see POST /v2/repository/index.")
    return json_reply({"ready": True})


async def repository_index(plane: DataPlane, call: Call) -> Reply:
    """Every version in the registry: READY, or UNAVAILABLE with the reason it failed."""
    only_ready = False
    if call.body.strip():
        document = read_json(call.body)
        if type(document) is not dict or set(document) - {"ready"}:
            raise InvalidRequestError('The index request is an object: {"ready": true|false}.')
        only_ready = document.get("ready", False)
        if type(only_ready) is not bool:
            raise InvalidRequestError("ready must be true or false")
    entries: list[dict[str, Any]] = [
        {"name": name, "version": str(version), "state": "READY", "reason": ""}
        for name, versions in plane.registry.ready().items()
        for version in versions
    ]
    if not only_ready:
        entries += [
            {"name": b.name, "version": str(b.version), "state": "UNAVAILABLE", "reason": b.reason}
            for b in plane.registry.broken()
        ]
    entries.sort(key=lambda entry: (entry["name"], int(entry["version"])))
    return json_reply(entries)


async def load_or_unload(plane: DataPlane, call: Call) -> Reply:
    raise InvalidRequestError(
        "Models are not loaded or unloaded on request: the server loads every version the "
        "registry folder holds, re-scanning it every few seconds (and on POST "
        "/v1/admin/reload). Add or remove a version folder instead."
    )


GET, POST = frozenset({"GET"}), frozenset({"POST"})
MODEL = "/v2/models/{name}"
VERSION = MODEL + "/versions/{version}"


def _route(template: str, methods: frozenset[str], handler: Any, guarded: bool = True) -> DataRoute:
    return DataRoute(template, methods, handler, error_reply, v2_docs.operation(template), guarded)


# The paths are disjoint (no segment holds a "/"): the order only makes infer the first tried.
ROUTES = [
    _route(MODEL + "/infer", POST, infer),
    _route(VERSION + "/infer", POST, infer),
    _route("/v2", GET, server_metadata),
    _route("/v2/", GET, server_metadata),
    _route("/v2/health/live", GET, live, guarded=False),
    _route("/v2/health/ready", GET, ready, guarded=False),
    _route("/v2/repository/index", POST, repository_index),
    _route("/v2/repository/models/{name}/load", POST, load_or_unload),
    _route("/v2/repository/models/{name}/unload", POST, load_or_unload),
    _route(MODEL, GET, model_metadata),
    _route(VERSION, GET, model_metadata),
    _route(MODEL + "/config", GET, model_config),
    _route(VERSION + "/config", GET, model_config),
    _route(MODEL + "/ready", GET, model_ready),
    _route(VERSION + "/ready", GET, model_ready),
]
