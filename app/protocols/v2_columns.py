"""An infer request's tensors as the signature's typed columns: one tensor per column (named
after it, [n] or [n, 1]), or one [n, k] tensor of every column when they share a type; JSON or
binary data. The values then go through the same column rules as every dialect's
(app/registry/columns.py): one 400 naming the row and the column.

JSON data may hold null where a column may be missing (binary FP data: NaN), an extension of
the protocol's JSON tensors, which have no way to say "missing".
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from app.errors import InvalidRequestError
from app.registry.columns import from_columns
from app.registry.signature import Column, Signature
from app.registry.tensors import Columns

# The numeric tensor types, little-endian as the binary extension says.
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
INTEGERS = frozenset(name for name, dtype in NUMERIC.items() if dtype.kind in "iu")
# The tensor types each column type takes (MLflow's widening: any number into a float column).
ACCEPTED: dict[str, frozenset[str]] = {
    "float32": frozenset(NUMERIC),
    "float64": frozenset(NUMERIC),
    "int64": INTEGERS,
    "string": frozenset({"BYTES"}),
    "bool": frozenset({"BOOL"}),
}
# The JSON values each tensor type holds (None: a gap, where the column may have one).
JSON_LEAVES: dict[str, frozenset[type]] = {"BYTES": frozenset({str}), "BOOL": frozenset({bool})}
JSON_LEAVES.update({name: frozenset({int}) for name in INTEGERS})
JSON_LEAVES.update({name: frozenset({int, float}) for name in ("FP16", "FP32", "FP64")})


class TensorHeader(NamedTuple):
    """One input tensor as the JSON header declares it, and its binary section if it has one."""

    position: int
    name: str
    shape: list[int]
    datatype: str
    data: Any
    binary: memoryview | None


def datatype(column: Column, float32: bool) -> str:
    """The tensor type a column is described with: what its model is fed."""
    if column.type in ("float32", "float64"):
        return "FP32" if float32 else "FP64"
    return {"int64": "INT64", "string": "BYTES", "bool": "BOOL"}[column.type]


def _invalid(tensor: TensorHeader, message: str) -> InvalidRequestError:
    return InvalidRequestError(f"inputs[{tensor.position}] ('{tensor.name[:64]}'): {message}")


def split_bytes(section: memoryview, count: int, where: str) -> list[bytes]:
    """The BYTES elements of a binary section: each a 4-byte little-endian length, then data."""
    elements, offset = [], 0
    for _ in range(count):
        if offset + 4 > len(section):
            raise InvalidRequestError(f"{where}: the binary BYTES data ends inside a length")
        size = int.from_bytes(section[offset : offset + 4], "little")
        start, offset = offset + 4, offset + 4 + size
        if offset > len(section):
            raise InvalidRequestError(f"{where}: a BYTES element runs past the binary data")
        elements.append(bytes(section[start:offset]))
    if offset != len(section):
        raise InvalidRequestError(f"{where}: the binary data holds more than its shape's elements")
    return elements


def _flatten(data: Any, depth: int, out: list[Any], tensor: TensorHeader) -> None:
    if depth > len(tensor.shape):
        raise _invalid(tensor, "data is nested deeper than its shape")
    for item in data:
        if type(item) is list:
            _flatten(item, depth + 1, out, tensor)
        else:
            out.append(item)


def _json_values(tensor: TensorHeader, count: int) -> list[Any]:
    if type(tensor.data) is not list:
        raise _invalid(tensor, "data must be a list of values, flat or nested")
    values: list[Any] = []
    _flatten(tensor.data, 1, values, tensor)
    if len(values) != count:
        raise _invalid(tensor, f"data holds {len(values)} values; its shape says {count}")
    found = set(map(type, values)) - JSON_LEAVES[tensor.datatype] - {type(None)}
    if found:
        names = ", ".join(sorted(kind.__name__ for kind in found))
        raise _invalid(tensor, f"{tensor.datatype} data holds {names}")
    return values


def _binary_values(tensor: TensorHeader, section: memoryview, count: int) -> list[Any]:
    where = f"inputs[{tensor.position}] ('{tensor.name[:64]}')"
    if tensor.datatype == "BYTES":
        try:
            return [item.decode() for item in split_bytes(section, count, where)]
        except UnicodeDecodeError as exc:
            raise _invalid(tensor, "BYTES of a text column must be UTF-8") from exc
    dtype = np.dtype("u1") if tensor.datatype == "BOOL" else NUMERIC[tensor.datatype]
    if len(section) != count * dtype.itemsize:
        raise _invalid(
            tensor,
            f"{len(section)} bytes of binary data; {count} {tensor.datatype} take "
            f"{count * dtype.itemsize}",
        )
    array = np.frombuffer(section, dtype)
    if tensor.datatype == "BOOL":
        if array.size and int(array.max()) > 1:
            raise _invalid(tensor, "BOOL bytes must be 0 or 1")
        array = array.astype(bool)
    found: list[Any] = array.tolist()
    return found


def values(tensor: TensorHeader) -> list[Any]:
    """Every value of the tensor, flat, in row-major order, as Python values."""
    count = math.prod(tensor.shape)
    if tensor.binary is not None:
        return _binary_values(tensor, tensor.binary, count)
    return _json_values(tensor, count)


def _check_type(tensor: TensorHeader, column: Column) -> None:
    if tensor.datatype not in ACCEPTED.get(column.type, frozenset()):
        accepted = " or ".join(sorted(ACCEPTED.get(column.type, frozenset())))
        raise _invalid(
            tensor,
            f"the column '{column.name}' is {column.type}: send {accepted or 'another input'}, "
            f"not {tensor.datatype}",
        )


def _one_per_column(tensors: list[TensorHeader], signature: Signature) -> dict[str, list[Any]]:
    by_name: dict[str, list[Any]] = {}
    rows = tensors[0].shape[0]
    for tensor in tensors:
        column = signature.column(tensor.name)
        if column is None:
            raise _invalid(
                tensor,
                f"no column named so; the model's inputs are {', '.join(signature.names)} "
                "(one tensor each, [n] or [n, 1]), or one [n, k] tensor named 'input'",
            )
        if tensor.name in by_name:
            raise _invalid(tensor, "the column is sent twice")
        if tensor.shape not in ([rows], [rows, 1]):
            raise _invalid(tensor, f"shape {tensor.shape}: a column takes [{rows}] or [{rows}, 1]")
        _check_type(tensor, column)
        by_name[tensor.name] = values(tensor)
    missing = [name for name in signature.names if name not in by_name]
    if missing:
        raise InvalidRequestError(f"inputs: no tensor for the column(s) {', '.join(missing)}")
    return by_name


def _side_by_side(tensor: TensorHeader, signature: Signature) -> dict[str, list[Any]]:
    width = len(signature.inputs)
    if len(tensor.shape) != 2 or tensor.shape[1] != width:
        raise _invalid(
            tensor,
            f"shape {tensor.shape} does not fit the model: it takes [-1, {width}] "
            f"({', '.join(signature.names)}), or one tensor per column",
        )
    for column in signature.inputs:
        _check_type(tensor, column)
    flat = values(tensor)
    return {name: flat[index::width] for index, name in enumerate(signature.names)}


def tensors_to_columns(
    tensors: list[TensorHeader], signature: Signature, matrix_name: str
) -> Columns:
    """The request's tensors as the signature's typed columns, every value checked."""
    if len(tensors) == 1 and tensors[0].name == matrix_name:
        data = _side_by_side(tensors[0], signature)
    else:
        data = _one_per_column(tensors, signature)
    return from_columns(data, signature, where="inputs")
