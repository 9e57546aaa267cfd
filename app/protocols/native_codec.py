"""The native dialect's bodies: JSON read, predictions and errors out (the request forms:
app/protocols/native_request.py).

Pure functions of bytes and arrays, importable without the model runtimes: large bodies are
decoded in a worker process (app/core/compute.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import numpy as np
import numpy.typing as npt
import orjson

from app.errors import BadRequestError, InvalidRequestError, PayloadTooLargeError, ServiceError
from app.protocols.numbers import bounded_int
from app.protocols.routing import Reply
from app.registry.signature import Signature

# Error bodies stay small whatever the request held: what is echoed back is capped.
MAX_MESSAGE_CHARS = 500
MAX_DETAILS = 10
MAX_ECHO_CHARS = 64
LONE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
# A JSON string, matched without backtracking (possessive): a hostile body stays linear.
STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"')
# Every byte but the separators of JSON values: what check_values deletes before it counts.
NOT_SEPARATORS = bytes(byte for byte in range(256) if byte not in b",[{")
SURROGATE_PAIR = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def value_budget(signature: Signature, max_rows: int) -> int:
    """A generous bound on the JSON values (commas, brackets, braces) of any body the row
    limit accepts: rows of the signature's values, with room for nesting, keys and options."""
    return 2 * max_rows * (signature.values_per_row + 32) + 4096


def check_values(body: bytes, budget: int) -> None:
    """413 for a body of more JSON values than `budget`, before any is made into a Python
    object (about 80 bytes each: a 10 MB body of [] would be 3.4 million lists). Commas and
    brackets inside strings do not count: text is recounted without its strings."""
    if len(body) <= budget:  # a value takes a byte at least
        return
    count = len(body.translate(None, NOT_SEPARATORS))  # one pass, in C
    if count <= budget:
        return
    strings = body.count(b'"') // 2  # each string a value too: recount only when they are few
    if strings <= budget:
        count = len(STRING.sub(b"", body).translate(None, NOT_SEPARATORS))
    if count > budget:
        raise PayloadTooLargeError(
            f"The body holds {count} JSON values; a request within the row limit holds at "
            f"most {budget}."
        )


def read_json(body: bytes, budget: int | None = None) -> Any:
    """The JSON document of a body, or the 400/413/422 saying why there is none."""
    if budget is not None:
        check_values(body, budget)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        reason = str(exc)
    if "not valid UTF-8" in reason or "surrogate" in reason:
        raise BadRequestError(
            "The body is not valid UTF-8 JSON (invalid bytes or a lone UTF-16 surrogate)."
        )
    if "depth limit" in reason:
        raise BadRequestError("The body is nested too deeply.")
    # NaN, Infinity and numbers beyond float range are not JSON to orjson; json reads them, so
    # the row checks can say which value is wrong.
    text = body.decode("utf-8")
    if LONE_SURROGATE.search(SURROGATE_PAIR.sub("", text)):
        raise BadRequestError("The body holds a lone UTF-16 surrogate escape.")
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise BadRequestError("The body is nested too deeply.") from exc
    except json.JSONDecodeError as exc:
        raise InvalidRequestError(
            f"The body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).",
            [{"loc": ["body"], "message": exc.msg}],
        ) from exc


@dataclass(frozen=True)
class PredictOptions:
    """What a predict request asks of each prediction, from its query string."""

    top_k: int | None = None  # only the k most probable classes' probabilities
    probabilities: bool = True  # False: the label and class index only


DEFAULT_OPTIONS = PredictOptions()
QUERY_NAMES = ("top_k", "probabilities")


def _query_error(name: str, message: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"query.{echo(name)}: {message}", [{"loc": ["query", name], "message": message}]
    )


def read_options(query: bytes, n_classes: int | None) -> PredictOptions:
    """The options of a predict query string; 422 for an unknown, repeated or bad parameter
    (`n_classes` None: a regressor, which takes none)."""
    if not query:
        return DEFAULT_OPTIONS
    try:
        pairs = parse_qsl(query.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _query_error("", "the query string could not be parsed") from exc
    seen: dict[str, str] = {}
    for name, value in pairs:
        if name not in QUERY_NAMES:
            raise _query_error(name, "unknown parameter; predict takes top_k and probabilities")
        if name in seen:
            raise _query_error(name, "given more than once")
        if n_classes is None:
            raise _query_error(name, "a regressor's predictions take no options")
        seen[name] = value
    top_k = None
    if "top_k" in seen:
        text = seen["top_k"]
        top_k = bounded_int(text, 1, n_classes or 0)
        if top_k is None:
            raise _query_error("top_k", f"must be an integer from 1 to {n_classes}")
    probabilities = seen.get("probabilities", "true").lower()
    if probabilities not in ("true", "false"):
        raise _query_error("probabilities", "must be true or false")
    return PredictOptions(top_k, probabilities == "true")


def echo(value: Any) -> Any:
    """A value from the request, shortened before it is sent back."""
    if isinstance(value, str) and len(value) > MAX_ECHO_CHARS:
        return value[:MAX_ECHO_CHARS] + "..."
    return value


def error_document(
    code: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The one error body, {"error": {"code", "message", "details"?}}, of bounded size."""
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS] + "..."
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = [
            {key: [echo(p) for p in v] if key == "loc" else echo(v) for key, v in d.items()}
            for d in details[:MAX_DETAILS]
        ]
    return {"error": error}


def dump(document: Any) -> bytes:
    """JSON bytes; strings orjson refuses (lone surrogates) are escaped by json instead."""
    try:
        return orjson.dumps(document)
    except TypeError:
        return json.dumps(document, ensure_ascii=True, separators=(",", ":")).encode()


JSON_TYPE = (b"content-type", b"application/json")


def error_reply(exc: ServiceError) -> Reply:
    """A ServiceError as the native dialect answers it: its status, headers and error body."""
    headers = [
        (name.lower().encode(), value.encode()) for name, value in (exc.headers or {}).items()
    ]
    body = dump(error_document(exc.code, str(exc), exc.details))
    return Reply(exc.status_code, body, [JSON_TYPE, *headers])


def prediction_body(
    name: str,
    version: int,
    labels: list[str],
    probabilities: Any,
    options: PredictOptions = DEFAULT_OPTIONS,
) -> bytes:
    """The PredictResponse body: one prediction per row, in order, with every class's
    probability (or the `top_k` most probable, most probable first; or none).
    Plain dicts for orjson: building pydantic objects per row cost more than the model."""
    winners = probabilities.argmax(axis=1).tolist()
    if not options.probabilities:
        predictions: list[dict[str, Any]] = [
            {"label": labels[index], "class_index": index} for index in winners
        ]
    elif options.top_k is None:
        rounded = np.round(probabilities, 6).tolist()
        predictions = [
            {
                "label": labels[index],
                "class_index": index,
                "probabilities": dict(zip(labels, row, strict=True)),
            }
            for index, row in zip(winners, rounded, strict=True)
        ]
    else:
        # A stable sort: equal probabilities keep the classes' order, the winner first.
        order = np.argsort(-probabilities, axis=1, kind="stable")[:, : options.top_k].tolist()
        rounded = np.round(probabilities, 6).tolist()
        predictions = [
            {
                "label": labels[index],
                "class_index": index,
                "probabilities": {labels[k]: row[k] for k in best},
            }
            for index, row, best in zip(winners, rounded, order, strict=True)
        ]
    return orjson.dumps({"model": name, "version": version, "predictions": predictions})


def value_body(name: str, version: int, values: npt.NDArray[np.float64]) -> bytes:
    """A regressor's PredictResponse body: {"value": v} per row, a list of values when the
    model answers several."""
    rows = values.tolist()
    if values.shape[1] == 1:
        predictions = [{"value": row[0]} for row in rows]
    else:
        predictions = [{"value": row} for row in rows]
    return orjson.dumps({"model": name, "version": version, "predictions": predictions})
