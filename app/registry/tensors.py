"""How a signature's columns feed an artifact: columns side by side, cast, as its tensors; and
the rows a version is checked and timed with at load (its stored example, else synthetic)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from app.registry.signature import Column, Signature, Tensor

# name -> one array per signature input, all with n rows: numbers as float64 (NaN = missing),
# int64, bool, text as an object array of str, an image as [n, pixels] float64.
Columns = Mapping[str, npt.NDArray[Any]]


class MatrixColumns(Mapping[str, npt.NDArray[Any]]):
    """Columns that arrived side by side as one [n, k] matrix (JSON rows of numbers, V2's
    tensor): each column is a view of it, and a tensor of exactly these columns is the matrix
    itself, cast once (a one-row Iris request would spend more on the re-stacking)."""

    def __init__(self, names: list[str], matrix: npt.NDArray[Any]) -> None:
        self.names = names
        self.matrix = matrix
        self._index = {name: index for index, name in enumerate(names)}

    def __getitem__(self, name: str) -> npt.NDArray[Any]:
        return self.matrix[:, self._index[name]]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


DTYPES: dict[str, Any] = {
    "float32": np.float32,
    "float64": np.float64,
    "int64": np.int64,
    "bool": np.bool_,
    "string": object,
}


def column_dtype(column: Column) -> Any:
    """The array type a column is held in, before any cast to its tensor."""
    if column.type in ("float32", "float64", "image"):
        return np.float64
    return DTYPES[column.type]


def _tensor(tensor: Tensor, columns: Columns) -> npt.NDArray[Any]:
    dtype = DTYPES[tensor.type]
    if isinstance(columns, MatrixColumns) and tensor.columns == columns.names:
        array = columns.matrix.astype(dtype, copy=False)
    elif len(tensor.columns) == 1:
        array = np.asarray(columns[tensor.columns[0]], dtype=dtype)
    else:
        # Filled column by column: a few times quicker than np.column_stack for one row.
        first = columns[tensor.columns[0]]
        array = np.empty((len(first), len(tensor.columns)), dtype=dtype)
        for index, name in enumerate(tensor.columns):
            array[:, index] = columns[name]
    rows = len(array)
    if tensor.shape and list(array.shape[1:]) != tensor.shape:
        array = array.reshape(rows, *tensor.shape)
    return array


def to_tensors(signature: Signature, columns: Columns) -> dict[str, npt.NDArray[Any]]:
    """The artifact's input tensors, [n, *shape] each, from a batch of columns."""
    return {tensor.name: _tensor(tensor, columns) for tensor in signature.tensors}


def rows_of(columns: Columns) -> int:
    if isinstance(columns, MatrixColumns):
        return len(columns.matrix)
    return len(next(iter(columns.values())))


def take(columns: Columns, start: int, stop: int) -> dict[str, npt.NDArray[Any]]:
    """Rows start..stop of every column (views, no copies)."""
    return {name: values[start:stop] for name, values in columns.items()}


def join(parts: Sequence[Mapping[str, npt.NDArray[Any]]]) -> dict[str, npt.NDArray[Any]]:
    """Batches of the same names, one after the other."""
    if len(parts) == 1:
        return dict(parts[0])
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def _synthetic(column: Column, rows: int) -> npt.NDArray[Any]:
    observed = column.observed
    if column.type == "image":
        size = int(np.prod(column.shape)) if column.shape else 784
        return np.zeros((rows, size))
    if column.type == "string":
        choices = list(observed.categories) if observed and observed.categories else []
        if not choices:
            missing = column.missing_value
            choices = [missing if isinstance(missing, str) else ""]
        return np.array([choices[i % len(choices)] for i in range(rows)], dtype=object)
    if column.type == "bool":
        return np.asarray(np.arange(rows) % 2 == 1)
    levels = [0.0]
    if observed and observed.deciles:
        levels = observed.deciles
    elif observed and observed.min is not None and observed.max is not None:
        levels = [observed.min, (observed.min + observed.max) / 2, observed.max]
    values = np.array([levels[i % len(levels)] for i in range(rows)], dtype=np.float64)
    return np.round(values) if column.type == "int64" else values


def synthetic_columns(signature: Signature, rows: int) -> dict[str, npt.NDArray[Any]]:
    """`rows` rows drawn from what was observed in each column (zeros for a legacy version)."""
    return {
        column.name: _synthetic(column, rows).astype(column_dtype(column), copy=False)
        for column in signature.inputs
    }


def repeat(columns: Columns, rows: int) -> dict[str, npt.NDArray[Any]]:
    """The batch's rows over and over, to `rows` rows."""
    have = rows_of(columns)
    index = np.arange(rows) % have
    return {name: values[index] for name, values in columns.items()}
