"""Serve a scikit-learn classifier from its ONNX export through ONNX Runtime."""

from __future__ import annotations

from typing import Self

import numpy as np
import onnxruntime

from app.runtimes.base import Array, Batch

OUTPUT = "probabilities"


class OnnxRuntime:
    """An ONNX Runtime session over an ONNX model's bytes: no scikit-learn input checks."""

    def __init__(self, session: onnxruntime.InferenceSession) -> None:
        self._session = session
        source = session.get_inputs()[0]
        self._input_name = source.name
        self._dtype = np.float64 if source.type == "tensor(double)" else np.float32
        self._outputs = [OUTPUT]

    @classmethod
    def load(cls, content: bytes) -> Self:
        options = onnxruntime.SessionOptions()
        # One worker process per core: more threads would only contend for it.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(content, options, providers=["CPUExecutionProvider"])
        return cls(session)

    def predict_proba(self, batch: Batch) -> Array:
        rows = np.ascontiguousarray(batch, dtype=self._dtype)
        (probabilities,) = self._session.run(self._outputs, {self._input_name: rows})
        return np.asarray(probabilities, dtype=np.float64)
