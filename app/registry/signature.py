"""The signature in metadata.json: named typed inputs, the task, and how the artifact's output
tensors map to labels, probabilities or values (models/README.md, "The signature").

Versions written before the signature existed are read as format version 0: the same structure
derived from their `input` and `class_labels`, so an old registry keeps loading.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FORMAT_VERSION = 1
ColumnType = Literal["float32", "float64", "int64", "bool", "string", "image"]
TensorType = Literal["float32", "float64", "int64", "bool", "string"]
# The tensor the built-in models' artifacts take, and the output skl2onnx names with ZipMap off.
LEGACY_TENSOR = "input"
LEGACY_PROBABILITIES = "probabilities"


class SignatureError(ValueError):
    """A signature the server cannot serve; the message says why."""


class Observed(BaseModel):
    """What the example, eval or training data held in one column: the drift reference."""

    model_config = ConfigDict(extra="allow")

    rows: int | None = None
    missing: int | None = None
    min: float | None = None
    max: float | None = None
    deciles: list[float] | None = None
    categories: dict[str, int] | None = None


class Column(BaseModel):
    """One named input of a request row."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1)
    type: ColumnType
    shape: list[int] = Field(default_factory=list, description="Per row; [] is one value.")
    optional: bool = False
    missing_value: str | float | None = None
    unit: str | None = None
    observed: Observed | None = None


class Tensor(BaseModel):
    """One input tensor of the artifact: its columns side by side, cast to `type`."""

    model_config = ConfigDict(extra="allow")

    name: str
    type: TensorType
    columns: list[str] = Field(min_length=1)
    shape: list[int] = Field(default_factory=list, description="Per row, batch excluded.")


class Outputs(BaseModel):
    """Which output tensor of the artifact plays which role."""

    model_config = ConfigDict(extra="allow")

    label: str | None = None
    probabilities: str | None = None
    value: str | None = None


class Classes(BaseModel):
    labels: list[str] = Field(min_length=1)
    type: Literal["string", "int64", "bool"] = "string"


class Signature(BaseModel):
    """What a version takes and answers."""

    model_config = ConfigDict(extra="allow")

    format_version: int = FORMAT_VERSION
    task: Literal["classification", "regression"]
    inputs: list[Column] = Field(min_length=1)
    tensors: list[Tensor] = Field(min_length=1)
    outputs: Outputs
    classes: Classes | None = None
    targets: list[str] | None = None
    example: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Signature:
        names = [column.name for column in self.inputs]
        if len(set(names)) != len(names):
            raise ValueError("input names repeat")
        fed = [name for tensor in self.tensors for name in tensor.columns]
        if sorted(fed) != sorted(names):
            raise ValueError("the tensors do not take each input exactly once")
        if self.task == "classification":
            if self.classes is None or len(self.classes.labels) < 2:
                raise ValueError("a classifier needs at least two class labels")
            if self.outputs.label is None and self.outputs.probabilities is None:
                raise ValueError("a classifier needs a label or a probabilities output")
        elif self.outputs.value is None:
            raise ValueError("a regressor needs a value output")
        return self

    # Derived once per version (the signature never changes once loaded): a request reads them.
    @cached_property
    def is_image(self) -> bool:
        return any(column.type == "image" for column in self.inputs)

    @cached_property
    def float32_inputs(self) -> frozenset[str]:
        """The columns that feed a float32 tensor: their numbers must fit float32."""
        return frozenset(name for t in self.tensors if t.type == "float32" for name in t.columns)

    @cached_property
    def names(self) -> list[str]:
        """The input columns' names, in order."""
        return [column.name for column in self.inputs]

    @cached_property
    def tensor_names(self) -> list[str]:
        return [tensor.name for tensor in self.tensors]

    @cached_property
    def name_set(self) -> frozenset[str]:
        return frozenset(self.names)

    @cached_property
    def values_per_row(self) -> int:
        """How many values a row holds: one a column, an image column's pixels."""
        return sum(math.prod(column.shape) if column.shape else 1 for column in self.inputs)

    @cached_property
    def all_numbers(self) -> bool:
        """Whether every input is one float a row that may not be missing (Iris): such rows
        are checked as one array, with no per-value work."""
        return all(
            c.type in ("float32", "float64") and not c.shape and not c.optional for c in self.inputs
        )

    def column(self, name: str) -> Column | None:
        return next((column for column in self.inputs if column.name == name), None)


def _legacy(metadata: dict[str, Any]) -> Signature:
    """Format version 0: a classifier with one numeric input, as the built-in models were."""
    spec = metadata.get("input") or {}
    labels = metadata.get("class_labels") or []
    outputs = Outputs(probabilities=LEGACY_PROBABILITIES)
    classes = Classes(labels=[str(label) for label in labels])
    if spec.get("kind") == "image":
        image = {k: v for k, v in spec.items() if k not in {"kind", "n_features", "features"}}
        column = Column(**{**image, "name": "image", "type": "image"})
        tensor = Tensor(
            name=LEGACY_TENSOR, type="float32", columns=["image"], shape=[spec["n_features"]]
        )
        return Signature(
            format_version=0,
            task="classification",
            inputs=[column],
            tensors=[tensor],
            outputs=outputs,
            classes=classes,
        )
    features = spec.get("features") or [
        {"name": f"x{index}"} for index in range(spec.get("n_features", 0))
    ]
    columns = [
        Column(name=feature["name"], type="float64", unit=feature.get("unit"))
        for feature in features
    ]
    tensor = Tensor(
        name=LEGACY_TENSOR,
        type="float32",
        columns=[column.name for column in columns],
        shape=[len(columns)],
    )
    return Signature(
        format_version=0,
        task="classification",
        inputs=columns,
        tensors=[tensor],
        outputs=outputs,
        classes=classes,
    )


def read_signature(metadata: dict[str, Any]) -> Signature:
    """The signature of one version's metadata.json (derived when it has none); SignatureError
    saying why when it is malformed or of a format this server does not know."""
    raw = metadata.get("signature")
    try:
        if raw is None:
            return _legacy(metadata)
        if not isinstance(raw, dict):
            raise SignatureError("the signature is not an object")
        version = raw.get("format_version")
        if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
            raise SignatureError(
                f"signature format version {version!r} is not one this server reads "
                f"(1 to {FORMAT_VERSION})"
            )
        return Signature.model_validate(raw)
    except SignatureError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        first = exc.errors()[0] if hasattr(exc, "errors") else None
        where = ".".join(str(part) for part in first["loc"]) if first else ""
        message = first["msg"] if first else str(exc)
        raise SignatureError(
            f"invalid signature{' at ' + where if where else ''}: {message}"
        ) from exc
