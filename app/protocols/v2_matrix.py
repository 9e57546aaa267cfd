"""One infer tensor as a [n, width] matrix: the numbers of a model whose every column is a
number (the built-in Iris models' 'input'), an image model's pixels, or its encoded images
(BYTES). Pure functions of bytes and arrays: binary tensors are read with np.frombuffer, no copy.
"""

from __future__ import annotations

import base64
import binascii
import math
from typing import Any

import numpy as np
import numpy.typing as npt

from app.core.inputs import input_bounds, within_bounds
from app.errors import InvalidInputError, InvalidRequestError
from app.protocols.v2_columns import NUMERIC, TensorHeader, split_bytes
from app.runtimes.base import Array as Batch
from app.schemas import InputSpec

FLOAT_LEAVES, INTEGER_LEAVES = frozenset({int, float}), frozenset({int})
MAX_DIMS = 4
FLOAT_MAX = {name: float(np.finfo(NUMERIC[name]).max) for name in ("FP16", "FP32", "FP64")}


def _invalid(message: str) -> InvalidRequestError:
    return InvalidRequestError(message)


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
    _check_bounds(rows, spec)
    dtype = NUMERIC[datatype]
    if dtype.kind != "f":
        return rows.astype(np.float64)
    if input_bounds(spec)[1] <= FLOAT_MAX[datatype]:  # nothing within bounds overflows
        return rows.astype(dtype, copy=False)
    with np.errstate(over="ignore"):  # beyond FP16's 65504 (or FP32's 3.4e38): infinite
        rows = rows.astype(dtype, copy=False)
    _check_bounds(rows, spec)
    return rows


def matrix(tensor: TensorHeader, spec: InputSpec) -> Batch | list[bytes]:
    """The one tensor of an image model, or of a model of numbers: [n, width] rows, checked,
    or encoded images to preprocess first."""
    shape, datatype, count = tensor.shape, tensor.datatype, math.prod(tensor.shape)
    if datatype == "BYTES":
        if spec.kind != "image":
            raise _invalid("BYTES inputs (encoded images) are taken by image models only")
        if not (len(shape) == 1 or shape[1:] == [1]):
            raise _invalid(f"inputs[0].shape: BYTES images take [n] or [n, 1], not {shape}")
        if tensor.binary is not None:
            return split_bytes(tensor.binary, count, "inputs[0]")
        return _json_images(tensor.data, count)
    if datatype not in NUMERIC:
        raise _invalid(
            f"inputs[0].datatype: {datatype!r} is not accepted; use BYTES or one of "
            f"{', '.join(NUMERIC)}"
        )
    if tensor.binary is not None:
        dtype = NUMERIC[datatype]
        if len(tensor.binary) != count * dtype.itemsize:
            raise _invalid(
                f"inputs[0]: {len(tensor.binary)} bytes of binary data; shape {shape} of "
                f"{datatype} takes {count * dtype.itemsize}"
            )
        values = np.frombuffer(tensor.binary, dtype)
    else:
        values = _json_numbers(tensor.data, datatype, count)
    return _rows(values, shape, spec, datatype)


def raw_row(binary: memoryview, spec: InputSpec) -> Batch:
    """The raw binary request (Inference-Header-Content-Length: 0): one FP32 row."""
    width = spec.n_features
    if len(binary) != width * 4:
        raise _invalid(
            f"A raw binary request (Inference-Header-Content-Length: 0) holds one FP32 row of "
            f"{width} values, {width * 4} bytes; the body has {len(binary)}"
        )
    return _rows(np.frombuffer(binary, NUMERIC["FP32"]), [1, width], spec, "FP32")
