"""The native dialect's bodies: {"instances": [...]} in, predictions and errors out.

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

from app.core.columns import rows_to_columns
from app.errors import BadRequestError, InvalidInputError, InvalidRequestError, ServiceError
from app.protocols.routing import Reply
from app.registry.columns import check_rows, from_columns
from app.registry.signature import Signature
from app.registry.tensors import Columns

# Error bodies stay small whatever the request held: what is echoed back is capped.
MAX_MESSAGE_CHARS = 500
MAX_DETAILS = 10
MAX_ECHO_CHARS = 64
LONE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
SURROGATE_PAIR = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def read_json(body: bytes) -> Any:
    """The JSON document of a body, or the 400/422 saying why there is none."""
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


# The JSON bodies a predict takes: rows (records or lists), columns (TF Serving's columnar
# form), and MLflow's two pandas forms, so MLflow users' requests work unchanged.
FORMS = ("instances", "inputs", "dataframe_split", "dataframe_records")


def _invalid(where: list[Any], message: str, hint: str) -> InvalidRequestError:
    path = ".".join(str(part) for part in where)
    return InvalidRequestError(f"{path}: {message}", [{"loc": where, "message": hint}])


def _columns(value: Any, signature: Signature, max_rows: int) -> Columns:
    """{"inputs": {"column": [values...], ...}}: lists of equal length."""
    if type(value) is not dict or not value or not all(type(v) is list for v in value.values()):
        raise _invalid(
            ["body", "inputs"],
            'inputs holds one list of values per column, like {"inputs": {"age": [40, 51]}}.',
            "an object of lists is required",
        )
    lengths = {len(values) for values in value.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise _invalid(
            ["body", "inputs"],
            "every column's list must hold the same number of values, one or more.",
            "lists of equal, non-zero length are required",
        )
    check_rows(lengths.pop(), max_rows)
    return from_columns(value, signature)


def _split(value: Any, signature: Signature, max_rows: int) -> Columns:
    """MLflow's {"dataframe_split": {"columns": [...], "data": [[...], ...]}} (index ignored)."""
    if type(value) is not dict or not set(value) <= {"columns", "data", "index"}:
        raise _invalid(
            ["body", "dataframe_split"],
            'dataframe_split is {"columns": [names], "data": [[row], ...]} (pandas "split").',
            "an object with columns and data is required",
        )
    names, data = value.get("columns"), value.get("data")
    if type(data) is not list or not data or not all(type(row) is list for row in data):
        raise _invalid(["body", "dataframe_split", "data"], "a list of rows is required.", "rows")
    if names is None:
        return rows_to_columns(data, signature, max_rows, "data")
    if type(names) is not list or not all(type(name) is str for name in names):
        where = ["body", "dataframe_split", "columns"]
        raise _invalid(where, "a list of column names is required.", "names")
    check_rows(len(data), max_rows)
    records = []
    for index, row in enumerate(data):
        if len(row) != len(names):
            raise InvalidInputError(
                f"data[{index}]: expected {len(names)} values, got {len(row)}",
                [{"loc": ["data", index], "message": f"expected {len(names)} values"}],
            )
        records.append(dict(zip(names, row, strict=True)))
    return rows_to_columns(records, signature, max_rows, "data")


def decode_instances(body: bytes, signature: Signature, max_rows: int) -> Columns:
    """A predict body -> the columns of the version's signature, checked: `instances` (rows:
    objects by column, or lists in signature order), `inputs` (columns), or MLflow's
    `dataframe_split` and `dataframe_records`."""
    document = read_json(body)
    forms = [key for key in FORMS if key in document] if type(document) is dict else []
    if len(forms) != 1:
        raise InvalidRequestError(
            'body.instances: the body must be a JSON object like {"instances": [[...], ...]} '
            "with one or more rows (or one of inputs, dataframe_split, dataframe_records).",
            [{"loc": ["body", "instances"], "message": "a non-empty list of rows is required"}],
        )
    form = forms[0]
    if len(document) > 1:  # a misspelt option must not be silently ignored
        unknown = next(key for key in document if key != form)
        raise InvalidRequestError(
            f"body.{_echo(unknown)}: unknown field; the body takes only '{form}' (options "
            "go in the query: ?top_k=3, ?probabilities=false).",
            [{"loc": ["body", unknown], "message": "unknown field"}],
        )
    value = document[form]
    if form == "inputs":
        return _columns(value, signature, max_rows)
    if form == "dataframe_split":
        return _split(value, signature, max_rows)
    if type(value) is not list or not value:
        raise InvalidRequestError(
            f'body.{form}: the body must be a JSON object like {{"{form}": [[...], ...]}} '
            "with one or more rows.",
            [{"loc": ["body", form], "message": "a non-empty list of rows is required"}],
        )
    return rows_to_columns(value, signature, max_rows, form)


@dataclass(frozen=True)
class PredictOptions:
    """What a predict request asks of each prediction, from its query string."""

    top_k: int | None = None  # only the k most probable classes' probabilities
    probabilities: bool = True  # False: the label and class index only


DEFAULT_OPTIONS = PredictOptions()
QUERY_NAMES = ("top_k", "probabilities")


def _query_error(name: str, message: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"query.{_echo(name)}: {message}", [{"loc": ["query", name], "message": message}]
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
        if not (text.isascii() and text.isdigit() and 1 <= int(text) <= (n_classes or 0)):
            raise _query_error("top_k", f"must be an integer from 1 to {n_classes}")
        top_k = int(text)
    probabilities = seen.get("probabilities", "true").lower()
    if probabilities not in ("true", "false"):
        raise _query_error("probabilities", "must be true or false")
    return PredictOptions(top_k, probabilities == "true")


def _echo(value: Any) -> Any:
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
            {key: [_echo(p) for p in v] if key == "loc" else _echo(v) for key, v in d.items()}
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
