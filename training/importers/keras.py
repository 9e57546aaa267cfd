"""Keras models (.keras): exported to TFLite as the built-in networks are, served by LiteRT."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training.importers import Export, ImportRefusedError, Original, Predictions


def read(path: Path) -> Original:
    try:
        import keras
    except ImportError as exc:
        raise ImportRefusedError(
            f"{path} is a Keras file and TensorFlow is not installed: pip install -e '.[train]'"
        ) from exc
    try:
        model = keras.saving.load_model(path)
    except Exception as exc:
        raise ImportRefusedError(f"cannot read {path}: {type(exc).__name__}: {exc}") from exc
    return wrap(model)


def _batch(frame: pd.DataFrame, dims: list[int]) -> Any:
    """The rows as the network's one input: columns side by side, or one shaped column."""
    if len(dims) == 1 and frame.shape[1] == dims[0]:
        return frame.to_numpy(dtype=np.float32)
    return np.stack([np.asarray(v, dtype=np.float32) for v in frame.iloc[:, 0]])


def wrap(model: Any) -> Original:
    if len(model.inputs) != 1:
        raise ImportRefusedError("Keras models with more than one input are not supported yet")
    dims = [int(d) for d in model.inputs[0].shape[1:]]
    width = int(model.outputs[0].shape[-1])
    task = "classification" if width > 1 else None

    def predict(frame: pd.DataFrame) -> Predictions:
        raw = np.asarray(model(_batch(frame, dims), training=False), dtype=np.float64)
        if (task or "classification") == "classification" and width > 1:
            return {"probabilities": raw, "label": raw.argmax(axis=1)}
        return {"value": raw.reshape(len(frame), -1)}

    name = model.inputs[0].name or "input"
    shaped = len(dims) != 1
    return Original(
        model=model,
        framework="keras",
        algorithm=f"Keras {type(model).__name__} ({model.name})",
        predict=predict,
        task=task,
        feature_names=[name] if shaped else None,
        n_features=None if shaped else dims[0],
        class_labels=list(range(width)) if width > 1 else None,
        library_versions={p: version(p) for p in ("keras", "tensorflow", "ai-edge-litert")},
        declared_inputs=[{"name": name, "type": "float32", "shape": dims}] if shaped else None,
    )


def export(original: Original, inputs: list[dict[str, Any]]) -> Export:
    """The TFLite flatbuffer, run with the interpreter the server uses."""
    from ai_edge_litert.interpreter import Interpreter

    from training.keras_models import tflite_io, to_tflite

    content = to_tflite(original.model)
    tensor, outputs = tflite_io(content)
    tensor["columns"] = [c["name"] for c in inputs]
    output = outputs["probabilities"]
    roles: dict[str, str | None] = (
        {"probabilities": output} if original.task == "classification" else {"value": output}
    )

    def predict(frame: pd.DataFrame) -> Predictions:
        interpreter = Interpreter(model_content=content)
        source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
        batch = _batch(frame, tensor["shape"])
        interpreter.resize_tensor_input(source["index"], list(batch.shape))
        interpreter.allocate_tensors()
        interpreter.set_tensor(source["index"], batch)
        interpreter.invoke()
        raw = np.asarray(interpreter.get_tensor(target["index"]), dtype=np.float64)
        if "probabilities" in roles:
            return {"probabilities": raw, "label": raw.argmax(axis=1)}
        return {"value": raw.reshape(len(frame), -1)}

    return Export("model.tflite", content, [tensor], roles, predict, ["TFLite, float32"])
