"""What a version takes and answers, described from its signature: the Open Inference
Protocol's model metadata, and Triton's model configuration (GET .../config), which
perf_analyzer and Triton's tools read before anything else.

Inputs: one [-1, k] tensor named 'input' when every column shares a type (the built-in Iris
models, an image's pixels), else one [-1, 1] tensor per column, named after it. Outputs:
label, class_index and probabilities for a classifier; value for a regressor.
"""

from __future__ import annotations

from typing import Any

from app.core.columns import input_spec
from app.protocols.v2_columns import datatype
from app.protocols.v2_request import INPUT_NAME
from app.registry.registry import LoadedModel
from app.registry.signature import Signature

PLATFORMS = {"model.onnx": "onnxruntime_onnx", "model.tflite": "litert_tflite"}
BACKENDS = {"onnxruntime_onnx": "onnxruntime", "litert_tflite": "tflite"}
# Triton's TYPE_* name of each tensor type.
TRITON_TYPES = {"BYTES": "TYPE_STRING", "BOOL": "TYPE_BOOL"}
TRITON_TYPES.update({name: f"TYPE_{name}" for name in ("INT64", "FP32", "FP64")})


def platform(model: LoadedModel) -> str:
    for file_name, name in PLATFORMS.items():
        if file_name in model.metadata.files:
            return name
    return f"{model.metadata.framework}_joblib"


def inputs(signature: Signature) -> list[dict[str, Any]]:
    """The input tensors as metadata lists them: name, datatype, shape with -1 for the batch."""
    if signature.is_image:
        return [
            {
                "name": INPUT_NAME,
                "datatype": "FP32",
                "shape": [-1, input_spec(signature).n_features],
            }
        ]
    float32 = signature.float32_inputs
    types = [datatype(column, column.name in float32) for column in signature.inputs]
    if len(set(types)) == 1:
        return [{"name": INPUT_NAME, "datatype": types[0], "shape": [-1, len(types)]}]
    return [
        {"name": column.name, "datatype": kind, "shape": [-1, 1]}
        for column, kind in zip(signature.inputs, types, strict=True)
    ]


def outputs(signature: Signature) -> list[dict[str, Any]]:
    if signature.classes is None:
        targets = len(signature.targets or []) or 1
        shape = [-1] if targets == 1 else [-1, targets]
        return [{"name": "value", "datatype": "FP64", "shape": shape}]
    return [
        {"name": "label", "datatype": "BYTES", "shape": [-1]},
        {"name": "class_index", "datatype": "INT64", "shape": [-1]},
        {"name": "probabilities", "datatype": "FP32", "shape": [-1, len(signature.classes.labels)]},
    ]


def accepts(signature: Signature) -> str:
    """A sentence on what the inputs take, for people reading the metadata."""
    if signature.is_image:
        return (
            f"'{INPUT_NAME}' takes FP32 (or any INT, UINT, FP16, FP64 type) [-1, 784] or "
            "UINT8 [-1, 28, 28]: pixels 0-255, ink bright as in MNIST; or BYTES [-1] of "
            "encoded images (PNG, JPEG, GIF, BMP, WebP; base64 strings in JSON, raw in binary "
            "data), each preprocessed into a 28x28 digit as image uploads are."
        )
    width = len(signature.inputs)
    if signature.all_numbers:
        kind = inputs(signature)[0]["datatype"]
        names = ", ".join(f"{c.name} ({c.unit})" if c.unit else c.name for c in signature.inputs)
        return (
            f"'{INPUT_NAME}' takes {kind} (or any INT, UINT, FP type) [-1, {width}]: {names}; "
            "or one [-1, 1] tensor per column, named after it."
        )
    columns = ", ".join(
        f"{c.name} ({c.type}{', may be missing' if c.optional else ''})" for c in signature.inputs
    )
    return (
        f"Columns {columns}: one [-1, 1] tensor per column, named after it (BYTES for text, "
        f"BOOL, INT64, FP32 or FP64), or, when they share a type, one [-1, {width}] tensor "
        f"named '{INPUT_NAME}'. JSON data may hold null where a column may be missing; binary FP "
        "data NaN."
    )


def _dims(shape: list[int]) -> list[int]:
    """A metadata shape as Triton's dims with batching: the batch left out; [-1] is [1]."""
    return shape[1:] or [1]


def _triton_tensor(tensor: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": tensor["name"],
        "data_type": TRITON_TYPES[tensor["datatype"]],
        "dims": _dims(tensor["shape"]),
    }
    if len(tensor["shape"]) == 1:  # sent as [n], described as [n, 1]: Triton's reshape says so
        entry["reshape"] = {"shape": []}
    return entry


def config(model: LoadedModel, versions: list[int], max_batch_size: int) -> dict[str, Any]:
    """Triton's model configuration, in the JSON form its HTTP API answers."""
    signature = model.signature
    name = platform(model)
    return {
        "name": model.metadata.name,
        "platform": name,
        "backend": BACKENDS.get(name, model.metadata.framework),
        "version_policy": {"specific": {"versions": versions}},
        "max_batch_size": max_batch_size,
        "input": [_triton_tensor(tensor) for tensor in inputs(signature)],
        "output": [_triton_tensor(tensor) for tensor in outputs(signature)],
        "instance_group": [{"name": model.metadata.name, "kind": "KIND_CPU", "count": 1}],
        "dynamic_batching": {},
        "parameters": {},
    }
