"""A request's rows as the typed columns of the version's signature: images through the
imaging checks, tabular rows through app/registry/columns.py."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from app.core.inputs import to_batch
from app.registry.columns import from_records, rows_bound
from app.registry.signature import Signature
from app.registry.tensors import Columns, MatrixColumns
from app.schemas import Feature, InputSpec


def input_spec(signature: Signature) -> InputSpec:
    """The signature as the one-matrix input of older decoders (V2): an image, or numbers."""
    if signature.is_image:
        column = signature.inputs[0]
        extra = column.model_extra or {}
        shape = column.shape or [28, 28]
        return InputSpec(
            kind="image",
            n_features=int(np.prod(shape)),
            shape=shape,
            range=extra.get("range", [0, 255]),
        )
    bound = rows_bound(signature)
    return InputSpec(
        kind="tabular",
        n_features=len(signature.inputs),
        features=[Feature(name=c.name, unit=c.unit) for c in signature.inputs],
        range=[-bound, bound],
    )


def matrix_columns(signature: Signature, matrix: npt.NDArray[Any]) -> Columns:
    """A [n, width] matrix (pixels of one image column, or one number per column) as columns."""
    if signature.is_image:
        return {signature.inputs[0].name: matrix.reshape(len(matrix), -1)}
    return MatrixColumns(signature.names, matrix)


def rows_to_columns(
    rows: list[Any], signature: Signature, max_rows: int, where: str = "instances"
) -> Columns:
    """JSON rows (records by column, lists in signature order, or images' pixels) -> columns;
    InvalidInputError naming the row and column of what is wrong."""
    if signature.is_image:
        return matrix_columns(signature, to_batch(rows, input_spec(signature), max_rows))
    return from_records(rows, signature, max_rows, where)
