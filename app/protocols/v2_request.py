"""The Open Inference Protocol's infer requests: JSON tensors or the binary tensor data extension
in, a batch of rows (or encoded images) and the outputs asked for out.

Pure functions of bytes and arrays, importable without the model runtimes: large headers are
decoded in a worker process (app/core/compute.py). Binary tensors are read with np.frombuffer, no
copy, so a binary batch costs about what its header does.
"""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from app.core.inputs import input_bounds, within_bounds
from app.errors import InvalidInputError, InvalidRequestError, PayloadTooLargeError
from app.protocols.native_codec import read_json
from app.runtimes.base import Array as Batch
from app.schemas import InputSpec

# The numeric tensor types a model input may have, little-endian as the extension says.
NUMERIC: dict[str, np.dtype[Any]] = {
    "UINT8": np.dtype("<u1"),
    "UINT16": np.dtype("<u2"),
    "UINT32": np.dtype("<u4"),
    "UINT64": np.dtype("<u8"),
    "INT8": np.dtype("<i1"),
    "INT16": np.dtype("<i2"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "FP16": np.dtype("<f2"),
    "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
}
INPUT_NAME = "input"
OUTPUT_NAMES = ("label", "class_index", "probabilities")
REQUEST_FIELDS = frozenset({"id", "parameters", "inputs", "outputs", "model_name", "model_version"})
INPUT_FIELDS = frozenset({"name", "shape", "datatype", "parameters", "data"})
MAX_ID_CHARS = 256
FLOAT_LEAVES, INTEGER_LEAVES = frozenset({int, float}), frozenset({int})
MAX_DIMS = 4


@dataclass(frozen=True)
class RequestedOutput:
    """One output the response carries, in the order asked for."""

    name: str
    binary: bool
    classification: int = 0  # > 0: the top-k "score:index:label" strings instead


class InferRequest(NamedTuple):  # built per request: a tuple costs a fifth of a dataclass
    """A decoded infer request: rows for the model, or encoded images to preprocess first."""

    id: str | None
    rows: Batch | None
    images: list[bytes] | None
    outputs: tuple[RequestedOutput, ...]


def _invalid(message: str) -> InvalidRequestError:
    return InvalidRequestError(message)


def _flag(value: Any, where: str) -> bool:
    if type(value) is not bool:
        raise _invalid(f"{where} must be true or false")
    return value


def _count(value: Any, where: str) -> int:
    if type(value) is not int or value < 0:
        raise _invalid(f"{where} must be a non-negative integer")
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise _invalid(f"{where} must be a JSON object")
    return value


def _known(document: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    if document.keys() <= allowed:
        return
    unknown = next(key for key in document if key not in allowed)
    shown = unknown if len(unknown) <= 64 else unknown[:64] + "..."
    raise _invalid(f"{where}: unknown field '{shown}'; known: {', '.join(sorted(allowed))}")


# What a request that names no outputs gets: all three, in their usual order, JSON or binary.
ALL_OUTPUTS = {
    binary: tuple(RequestedOutput(name, binary) for name in OUTPUT_NAMES)
    for binary in (False, True)
}
OUTPUT_FIELDS = frozenset({"name", "parameters"})
OUTPUT_PARAMETERS = frozenset({"binary_data", "classification"})
REQUEST_PARAMETERS = frozenset({"binary_data_output"})
INPUT_PARAMETERS = frozenset({"binary_data_size"})


def read_outputs(
    document: dict[str, Any], binary_default: bool, n_classes: int
) -> tuple[RequestedOutput, ...]:
    """The outputs a request asks for; all three, in their usual order, when it names none."""
    asked = document.get("outputs")
    if asked is None or asked == []:
        return ALL_OUTPUTS[binary_default]
    if type(asked) is not list:
        raise _invalid('outputs must be a list of {"name": ...} objects')
    outputs: list[RequestedOutput] = []
    for index, item in enumerate(asked):
        item = _object(item, f"outputs[{index}]")
        _known(item, OUTPUT_FIELDS, f"outputs[{index}]")
        name = item.get("name")
        if name not in OUTPUT_NAMES:
            raise _invalid(
                f"outputs[{index}].name: no output {str(name)[:64]!r}; "
                f"the outputs are {', '.join(OUTPUT_NAMES)}"
            )
        if any(output.name == name for output in outputs):
            raise _invalid(f"outputs[{index}].name: '{name}' is asked for twice")
        parameters = _object(item.get("parameters", {}), f"outputs[{index}].parameters")
        _known(parameters, OUTPUT_PARAMETERS, f"outputs[{index}].parameters")
        binary = binary_default
        if "binary_data" in parameters:
            binary = _flag(parameters["binary_data"], f"outputs[{index}].parameters.binary_data")
        classes = 0
        if "classification" in parameters:
            classes = parameters["classification"]
            if name != "probabilities":
                raise _invalid(f"outputs[{index}]: classification applies to 'probabilities'")
            if type(classes) is not int or not 1 <= classes <= n_classes:
                raise _invalid(
                    f"outputs[{index}].parameters.classification must be an integer "
                    f"from 1 to {n_classes}"
                )
        outputs.append(RequestedOutput(name, binary, classes))
    return tuple(outputs)


def _shape(value: Any) -> list[int]:
    if (
        type(value) is not list
        or not 1 <= len(value) <= MAX_DIMS
        or any(type(size) is not int or size < 0 for size in value)
    ):
        raise _invalid(f"inputs[0].shape must be a list of 1 to {MAX_DIMS} non-negative integers")
    return value


def _leaf_types(data: list[Any], depth: int = 1) -> set[type]:
    """The types of the values of nested lists (bool is not a number here, as in JSON)."""
    types = set(map(type, data))
    if list in types:
        if depth >= MAX_DIMS:
            raise _invalid(f"inputs[0].data is nested more than {MAX_DIMS} deep")
        types.discard(list)
        for item in data:
            if type(item) is list:
                types |= _leaf_types(item, depth + 1)
    return types


def _json_numbers(data: Any, datatype: str, count: int) -> npt.NDArray[Any]:
    """JSON data, flat or nested, as an array of `count` numbers: float64 for the FP types
    (rounded to FP32 or FP16 by _rows), int64 within the declared type's range for the others."""
    if type(data) is not list:
        raise _invalid("inputs[0].data must be a list of numbers, flat or nested")
    dtype = NUMERIC[datatype]
    found = _leaf_types(data) - (FLOAT_LEAVES if dtype.kind == "f" else INTEGER_LEAVES)
    if found:
        kinds = "numbers" if dtype.kind == "f" else "integers"
        names = ", ".join(sorted(t.__name__ for t in found))
        raise _invalid(f"inputs[0].data: {datatype} takes {kinds}, not {names}")
    try:
        values = np.array(data, dtype=np.float64 if dtype.kind == "f" else None)
    except OverflowError as exc:  # an integer beyond float64, or beyond 64 bits
        raise _invalid(f"inputs[0].data: a value is outside the range of {datatype}") from exc
    except ValueError as exc:  # ragged nesting
        raise _invalid(f"inputs[0].data is not a regular array of numbers ({exc})") from exc
    if values.size and values.dtype.kind not in "iuf":  # integers beyond 64 bits
        raise _invalid(f"inputs[0].data: a value is outside the range of {datatype}")
    if values.size != count:
        raise _invalid(f"inputs[0].data holds {values.size} values; its shape says {count}")
    if dtype.kind in "iu" and values.size:
        info = np.iinfo(dtype)
        if values.min() < info.min or values.max() > info.max:
            raise _invalid(f"inputs[0].data: a value is outside the range of {datatype}")
    return values


def _split_bytes(section: memoryview, count: int) -> list[bytes]:
    """The BYTES elements of a binary section: each a 4-byte little-endian length, then data."""
    elements, offset = [], 0
    for _ in range(count):
        if offset + 4 > len(section):
            raise _invalid("inputs[0]: the binary BYTES data ends inside an element's length")
        size = int.from_bytes(section[offset : offset + 4], "little")
        start, offset = offset + 4, offset + 4 + size
        if offset > len(section):
            raise _invalid("inputs[0]: a BYTES element runs past the binary data")
        elements.append(bytes(section[start:offset]))
    if offset != len(section):
        raise _invalid("inputs[0]: the binary data holds more than its shape's BYTES elements")
    return elements


def _json_images(data: Any, count: int) -> list[bytes]:
    if type(data) is not list or len(data) != count or any(type(v) is not str for v in data):
        raise _invalid(f"inputs[0].data must be a flat list of {count} base64 strings (BYTES)")
    try:
        return [base64.b64decode(value, validate=True) for value in data]
    except (binascii.Error, ValueError) as exc:
        raise _invalid("inputs[0].data: BYTES in JSON are base64-encoded images") from exc


def _check_bounds(rows: npt.NDArray[Any], spec: InputSpec) -> None:
    low, high = input_bounds(spec)
    if not within_bounds(rows, low, high):
        wide = rows.astype(np.float64)  # the bounds may lie beyond FP16's range
        flat = np.flatnonzero(~((wide >= low) & (wide <= high)))[0]
        row, column = divmod(int(flat), rows.shape[1])
        raise InvalidInputError(
            f"inputs[0]: row {row}, value {column} is {rows[row, column]}; values must be "
            f"finite and within [{low:g}, {high:g}]"
        )


def _rows(values: npt.NDArray[Any], shape: list[int], spec: InputSpec, datatype: str) -> Batch:
    """A numeric tensor as the model's (n, n_features) rows, its values checked: FP rows in
    the declared type (JSON numbers rounded to it, as the same tensor in binary would be), the
    integer types as float64."""
    width = spec.n_features
    fits = len(shape) == 2 and shape[1] == width
    if not fits and spec.kind == "image" and spec.shape:
        fits = shape[1:] == spec.shape
    if not fits:
        accepted = [[-1, width]]
        if spec.kind == "image" and spec.shape:
            accepted.append([-1, *spec.shape])
        shown = " or ".join(str(a) for a in accepted)
        raise _invalid(f"inputs[0].shape {shape} does not fit the model: it takes {shown}")
    rows = values if values.shape == (shape[0], width) else values.reshape(shape[0], width)
    _check_bounds(rows, spec)  # before rounding: nothing within bounds overflows FP32
    dtype = NUMERIC[datatype]
    if dtype.kind != "f":
        return rows.astype(np.float64)
    if dtype.itemsize >= 4:
        return rows.astype(dtype, copy=False)
    with np.errstate(over="ignore"):  # FP16 ends at 65504: beyond it, infinite
        rows = rows.astype(dtype, copy=False)
    _check_bounds(rows, spec)
    return rows


def decode_infer(
    body: bytes, header_length: int | None, spec: InputSpec, n_classes: int, max_rows: int
) -> InferRequest:
    """An infer body (JSON, or JSON then binary tensors) -> what the model is asked."""
    if header_length is None:
        header_length = len(body)
    if not 0 <= header_length <= len(body):
        raise _invalid(
            f"Inference-Header-Content-Length is {header_length}; the body has {len(body)} bytes"
        )
    binary = memoryview(body)[header_length:]
    if header_length == 0:  # the raw binary request: one FP32 row, every output binary
        return _raw_request(binary, spec, n_classes)
    document = _object(read_json(body[:header_length]), "the body")
    _known(document, REQUEST_FIELDS, "the body")
    request_id = document.get("id")
    if request_id is not None and (type(request_id) is not str or len(request_id) > MAX_ID_CHARS):
        raise _invalid(f"id must be a string of at most {MAX_ID_CHARS} characters")
    binary_default = False
    if "parameters" in document:
        parameters = _object(document["parameters"], "parameters")
        _known(parameters, REQUEST_PARAMETERS, "parameters")
        binary_default = _flag(parameters.get("binary_data_output", False), "binary_data_output")
    outputs = read_outputs(document, binary_default, n_classes)
    inputs = document.get("inputs")
    if type(inputs) is not list or len(inputs) != 1:
        raise _invalid(f"inputs must be a list of one tensor, named '{INPUT_NAME}'")
    tensor = _object(inputs[0], "inputs[0]")
    _known(tensor, INPUT_FIELDS, "inputs[0]")
    if tensor.get("name") != INPUT_NAME:
        raise _invalid(f"inputs[0].name: the model's one input is named '{INPUT_NAME}'")
    shape, datatype = _shape(tensor.get("shape")), tensor.get("datatype")
    count = math.prod(shape)
    if shape[0] == 0:
        raise _invalid("inputs[0].shape: a request needs at least one row")
    if shape[0] > max_rows:
        raise PayloadTooLargeError(f"{shape[0]} rows in one request; at most {max_rows}.")
    if type(datatype) is not str or (datatype != "BYTES" and datatype not in NUMERIC):
        raise _invalid(
            f"inputs[0].datatype: {str(datatype)[:16]!r} is not accepted; use BYTES or one of "
            f"{', '.join(NUMERIC)}"
        )
    size = None
    if "parameters" in tensor:
        input_parameters = _object(tensor["parameters"], "inputs[0].parameters")
        _known(input_parameters, INPUT_PARAMETERS, "inputs[0].parameters")
        size = input_parameters.get("binary_data_size")
    if size is not None:
        size = _count(size, "inputs[0].parameters.binary_data_size")
        if "data" in tensor:
            raise _invalid("inputs[0] has both data and binary_data_size")
        if size != len(binary):
            raise _invalid(
                f"inputs[0].parameters.binary_data_size is {size}; {len(binary)} bytes follow "
                "the JSON header"
            )
    elif len(binary):
        raise _invalid("binary data follows the JSON header, but no input has binary_data_size")
    elif "data" not in tensor:
        raise _invalid("inputs[0] needs data, or parameters.binary_data_size")
    if datatype == "BYTES":
        if spec.kind != "image":
            raise _invalid("BYTES inputs (encoded images) are taken by image models only")
        if not (len(shape) == 1 or shape[1:] == [1]):
            raise _invalid(f"inputs[0].shape: BYTES images take [n] or [n, 1], not {shape}")
        images = (
            _split_bytes(binary, count) if size is not None else _json_images(tensor["data"], count)
        )
        return InferRequest(request_id, None, images, outputs)
    if size is not None:
        dtype = NUMERIC[datatype]
        if size != count * dtype.itemsize:
            raise _invalid(
                f"inputs[0]: {size} bytes of binary data; shape {shape} of {datatype} "
                f"takes {count * dtype.itemsize}"
            )
        values = np.frombuffer(binary, dtype)
    else:
        values = _json_numbers(tensor["data"], datatype, count)
    return InferRequest(request_id, _rows(values, shape, spec, datatype), None, outputs)


def _raw_request(binary: memoryview, spec: InputSpec, n_classes: int) -> InferRequest:
    width = spec.n_features
    if len(binary) != width * 4:
        raise _invalid(
            f"A raw binary request (Inference-Header-Content-Length: 0) holds one FP32 row of "
            f"{width} values, {width * 4} bytes; the body has {len(binary)}"
        )
    rows = _rows(np.frombuffer(binary, NUMERIC["FP32"]), [1, width], spec, "FP32")
    return InferRequest(None, rows, None, ALL_OUTPUTS[True])
