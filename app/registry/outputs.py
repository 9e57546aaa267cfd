"""What an artifact's outputs mean, by the signature: labels, probabilities or values; and the
check at load that they are what the signature says (never ready, then 500 on every request)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from app.registry.signature import Signature, SignatureError

Outputs = Mapping[str, npt.NDArray[Any]]


def _label_key(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _label_indices(signature: Signature, labels: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    assert signature.classes is not None
    lookup = {label: i for i, label in enumerate(signature.classes.labels)}
    lookup.update({label.lower(): i for i, label in enumerate(signature.classes.labels)})
    indices = []
    for value in np.asarray(labels).reshape(-1).tolist():
        key = _label_key(value)
        index = lookup.get(key, lookup.get(key.lower()))
        if index is None:
            raise SignatureError(
                f"the artifact answered the label {key[:64]!r}, not one of the class labels"
            )
        indices.append(index)
    return np.asarray(indices, dtype=np.int64)


def probabilities(signature: Signature, outputs: Outputs) -> npt.NDArray[np.float64]:
    """A classifier's [n, classes] probabilities (one-hot from its labels when it has none)."""
    assert signature.classes is not None
    name = signature.outputs.probabilities
    if name is not None:
        scores = np.asarray(outputs[name], dtype=np.float64)
        return scores.reshape(len(scores), -1)
    assert signature.outputs.label is not None
    indices = _label_indices(signature, outputs[signature.outputs.label])
    return np.eye(len(signature.classes.labels))[indices]


def values(signature: Signature, outputs: Outputs) -> npt.NDArray[np.float64]:
    """A regressor's [n, outputs] values."""
    assert signature.outputs.value is not None
    answered = np.asarray(outputs[signature.outputs.value], dtype=np.float64)
    return answered.reshape(len(answered), -1)


def _named(outputs: Outputs, name: str) -> npt.NDArray[Any]:
    if name not in outputs:
        found = ", ".join(sorted(outputs)) or "none"
        raise SignatureError(f"the artifact has no output {name!r} (it has: {found})")
    value = outputs[name]
    if not isinstance(value, np.ndarray):
        raise SignatureError(f"the output {name!r} is a {type(value).__name__}, not a tensor")
    return value


def _numeric(array: npt.NDArray[Any], name: str, rows: int) -> npt.NDArray[np.float64]:
    if array.dtype.kind not in "fiub" or array.ndim == 0 or len(array) != rows:
        raise SignatureError(
            f"the output {name!r} is not {rows} rows of numbers ({array.dtype}, {array.shape})"
        )
    numbers = np.asarray(array, dtype=np.float64).reshape(rows, -1)
    if not np.isfinite(numbers).all():
        raise SignatureError(f"the output {name!r} holds values that are not finite")
    return numbers


def check_outputs(signature: Signature, outputs: Outputs, rows: int) -> None:
    """SignatureError saying what differs when the artifact's outputs for `rows` rows are not
    what the signature says: names, class count, types, finite values."""
    roles = signature.outputs
    if signature.task == "regression":
        assert roles.value is not None
        answered = _numeric(_named(outputs, roles.value), roles.value, rows)
        if signature.targets and answered.shape[1] != len(signature.targets):
            raise SignatureError(
                f"the artifact answers {answered.shape[1]} values a row; the signature names "
                f"{len(signature.targets)} targets"
            )
        return
    assert signature.classes is not None
    classes = len(signature.classes.labels)
    if roles.probabilities is not None:
        scores = _numeric(_named(outputs, roles.probabilities), roles.probabilities, rows)
        if scores.shape[1] != classes:
            raise SignatureError(
                f"the artifact answers {scores.shape[1]} probabilities a row; the signature has "
                f"{classes} class labels"
            )
    if roles.label is not None:
        labels = _named(outputs, roles.label)
        if labels.ndim == 0 or len(labels) != rows or labels.size != rows:
            raise SignatureError(f"the output {roles.label!r} is not one label a row")
        _label_indices(signature, labels)
