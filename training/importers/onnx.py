"""ONNX: run an export on a data frame of the signature's columns, and import a user's .onnx
file (checked with onnx.checker, loaded in ONNX Runtime, its graph giving the signature)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training.importers import Export, ImportRefusedError, Original, Predictions, first_line

ONNX_TYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int64",
    "tensor(bool)": "bool",
    "tensor(string)": "string",
}


def session(content: bytes) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    return onnxruntime.InferenceSession(content, options, providers=["CPUExecutionProvider"])


def feeds(frame: pd.DataFrame, tensors: list[dict[str, Any]]) -> dict[str, Any]:
    """Each tensor: its columns side by side, cast to its type, [n_rows, *shape]."""
    fed = {}
    for tensor in tensors:
        block = frame[tensor["columns"]]
        if tensor["type"] == "string":
            values = block.astype(object).where(block.notna(), "").astype(str).to_numpy(object)
        elif len(tensor["columns"]) == 1 and tensor["shape"] not in ([], [1]):
            values = np.stack([np.asarray(v) for v in block.iloc[:, 0]]).astype(tensor["type"])
        else:
            values = block.to_numpy(dtype=np.dtype(tensor["type"]))
        fed[tensor["name"]] = values.reshape(len(frame), *(tensor["shape"] or []))
    return fed


def predictor(content: bytes, tensors: list[dict[str, Any]], outputs: dict[str, str | None]) -> Any:
    """predict(frame) -> {"label"|"probabilities"|"value": array} through ONNX Runtime."""
    runner = session(content)
    roles = {role: name for role, name in outputs.items() if name is not None}

    def predict(frame: pd.DataFrame) -> Predictions:
        answers = runner.run(list(roles.values()), feeds(frame, tensors))
        return {role: np.asarray(a) for role, a in zip(roles, answers, strict=True)}

    return predict


def output_roles(runner: Any, task: str | None) -> tuple[str, dict[str, str | None]]:
    """The task and which output is the label, the probabilities or the value."""
    outputs = runner.get_outputs()
    names = [o.name for o in outputs]
    probabilities = next((n for n in names if "prob" in n.lower()), None)
    label = next((n for n in names if "label" in n.lower()), None)
    numeric = [o.name for o in outputs if o.type in ("tensor(float)", "tensor(double)")]
    if task is None:
        task = "classification" if probabilities or label else "regression"
    if task == "classification":
        if probabilities is None and label is None:
            probabilities = numeric[0] if numeric else None
        if probabilities is None and label is None:
            raise ImportRefusedError("the ONNX graph has no label or probabilities output")
        return task, {"label": label, "probabilities": probabilities}
    if not numeric:
        raise ImportRefusedError("the ONNX graph has no float output to read a value from")
    return task, {"value": numeric[0]}


def graph_tensors(runner: Any) -> list[dict[str, Any]]:
    """One column a graph input, its per-row shape [] for [n, 1] and [k] for [n, k]."""
    tensors = []
    for source in runner.get_inputs():
        if source.type not in ONNX_TYPES:
            raise ImportRefusedError(f"the ONNX input {source.name!r} has type {source.type}")
        dims = [d if isinstance(d, int) else -1 for d in source.shape[1:]]
        if any(d < 0 for d in dims):
            raise ImportRefusedError(f"the ONNX input {source.name!r} has a free shape {dims}")
        tensors.append(
            {
                "name": source.name,
                "type": ONNX_TYPES[source.type],
                "columns": [source.name],
                "shape": dims,
            }
        )
    return tensors


def load(path: Path, task: str | None) -> tuple[Original, Export]:
    """A user's .onnx file: it is both the original and the export."""
    import onnx

    content = path.read_bytes()
    try:
        onnx.checker.check_model(onnx.load_from_string(content))
        runner = session(content)
    except Exception as exc:
        raise ImportRefusedError(f"{path} is not a valid ONNX model: {first_line(exc)}") from exc
    tensors = graph_tensors(runner)
    task, outputs = output_roles(runner, task)
    predict = predictor(content, tensors, outputs)
    original = Original(
        model=content,
        framework="onnx",
        algorithm=f"ONNX graph ({len(tensors)} inputs)",
        predict=predict,
        task=task,
        feature_names=[t["name"] for t in tensors],
        library_versions={"onnx": onnx.__version__},
        declared_inputs=[
            {
                "name": t["name"],
                "type": t["type"],
                "shape": [] if t["shape"] in ([], [1]) else t["shape"],
            }
            for t in tensors
        ],
    )
    export = Export("model.onnx", content, tensors, dict(outputs), predict, ["the file as given"])
    return original, export
