"""Serve a Keras model from its TFLite export, without importing TensorFlow."""

from __future__ import annotations

import threading
from typing import Self

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from app.runtimes.base import Array, Batch


class TFLiteRuntime:
    """A LiteRT interpreter over a TFLite model's bytes; resized when the batch size changes."""

    def __init__(self, interpreter: Interpreter) -> None:
        self._interpreter = interpreter
        source = interpreter.get_input_details()[0]
        self._input_index = source["index"]
        self._input_shape = [int(d) for d in source["shape_signature"][1:]]
        self._output_index = interpreter.get_output_details()[0]["index"]
        self._batch_size = -1
        # One interpreter holds one set of tensors: calls from several threads must take turns.
        self._lock = threading.Lock()

    @classmethod
    def load(cls, content: bytes) -> Self:
        # The interpreter keeps a reference to `content`: it reads the model from those bytes.
        return cls(Interpreter(model_content=content, num_threads=1))

    def predict_proba(self, batch: Batch) -> Array:
        rows = np.ascontiguousarray(batch, dtype=np.float32).reshape(-1, *self._input_shape)
        with self._lock:
            if len(rows) != self._batch_size:
                self._interpreter.resize_tensor_input(
                    self._input_index, [len(rows), *self._input_shape]
                )
                self._interpreter.allocate_tensors()
                self._batch_size = len(rows)
            self._interpreter.set_tensor(self._input_index, rows)
            self._interpreter.invoke()
            return np.array(self._interpreter.get_tensor(self._output_index), dtype=np.float64)
