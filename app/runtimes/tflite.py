"""Serve a Keras model from its TFLite export, without importing TensorFlow.

One interpreter holds one set of tensors, so threads cannot share it; rather than take turns on
a lock (the event loop then waited behind a large batch in a compute thread, or behind the
low-priority shadow thread), each thread gets an interpreter of its own over the same model
bytes, made on its first call (about a millisecond, and the model's activations for the batch
sizes it runs)."""

from __future__ import annotations

import threading
from typing import Any, Self

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from app.runtimes.base import Outputs, Tensors


class _Local(threading.local):
    """A thread's own interpreter and the batch size its tensors are allocated for."""

    interpreter: Interpreter | None = None
    batch_size = -1


class TFLiteRuntime:
    """LiteRT interpreters over a TFLite model's bytes, one a thread; each resized when the
    batch size it runs changes."""

    def __init__(self, content: bytes) -> None:
        self._content = content  # each interpreter reads the model from these bytes
        self._local = _Local()
        interpreter = self._interpreter()
        self._inputs: list[dict[str, Any]] = interpreter.get_input_details()
        self._outputs: list[dict[str, Any]] = interpreter.get_output_details()
        self.input_names = [str(detail["name"]) for detail in self._inputs]
        self.output_names = [str(detail["name"]) for detail in self._outputs]
        self._shapes = [[int(d) for d in detail["shape_signature"][1:]] for detail in self._inputs]

    @classmethod
    def load(cls, content: bytes) -> Self:
        return cls(content)

    def _interpreter(self) -> Interpreter:
        interpreter = self._local.interpreter
        if interpreter is None:
            interpreter = Interpreter(model_content=self._content, num_threads=1)
            self._local.interpreter = interpreter
        return interpreter

    def run(self, inputs: Tensors) -> Outputs:
        arrays = [
            np.ascontiguousarray(inputs[detail["name"]], dtype=detail["dtype"]).reshape(-1, *shape)
            for detail, shape in zip(self._inputs, self._shapes, strict=True)
        ]
        rows = len(arrays[0])
        interpreter, local = self._interpreter(), self._local
        if rows != local.batch_size:
            for detail, shape in zip(self._inputs, self._shapes, strict=True):
                interpreter.resize_tensor_input(detail["index"], [rows, *shape])
            interpreter.allocate_tensors()
            local.batch_size = rows
        for detail, array in zip(self._inputs, arrays, strict=True):
            interpreter.set_tensor(detail["index"], array)
        interpreter.invoke()
        return {
            name: np.array(interpreter.get_tensor(detail["index"]))
            for name, detail in zip(self.output_names, self._outputs, strict=True)
        }
