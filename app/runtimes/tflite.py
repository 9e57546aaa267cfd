"""Serve a Keras model from its TFLite export, without importing TensorFlow."""

from __future__ import annotations

import threading
from typing import Any, Self

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from app.runtimes.base import Outputs, Tensors


class TFLiteRuntime:
    """A LiteRT interpreter over a TFLite model's bytes; resized when the batch size changes."""

    def __init__(self, interpreter: Interpreter) -> None:
        self._interpreter = interpreter
        self._inputs: list[dict[str, Any]] = interpreter.get_input_details()
        self._outputs: list[dict[str, Any]] = interpreter.get_output_details()
        self.input_names = [str(detail["name"]) for detail in self._inputs]
        self.output_names = [str(detail["name"]) for detail in self._outputs]
        self._shapes = [[int(d) for d in detail["shape_signature"][1:]] for detail in self._inputs]
        self._batch_size = -1
        # One interpreter holds one set of tensors: calls from several threads must take turns.
        self._lock = threading.Lock()

    @classmethod
    def load(cls, content: bytes) -> Self:
        # The interpreter keeps a reference to `content`: it reads the model from those bytes.
        return cls(Interpreter(model_content=content, num_threads=1))

    def run(self, inputs: Tensors) -> Outputs:
        arrays = [
            np.ascontiguousarray(inputs[detail["name"]], dtype=detail["dtype"]).reshape(-1, *shape)
            for detail, shape in zip(self._inputs, self._shapes, strict=True)
        ]
        rows = len(arrays[0])
        with self._lock:
            if rows != self._batch_size:
                for detail, shape in zip(self._inputs, self._shapes, strict=True):
                    self._interpreter.resize_tensor_input(detail["index"], [rows, *shape])
                self._interpreter.allocate_tensors()
                self._batch_size = rows
            for detail, array in zip(self._inputs, arrays, strict=True):
                self._interpreter.set_tensor(detail["index"], array)
            self._interpreter.invoke()
            return {
                name: np.array(self._interpreter.get_tensor(detail["index"]))
                for name, detail in zip(self.output_names, self._outputs, strict=True)
            }
