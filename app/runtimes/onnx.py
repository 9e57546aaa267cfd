"""Serve an ONNX model through ONNX Runtime: several named inputs, string tensors included."""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import onnxruntime

from app.runtimes.base import Outputs, Tensors

# What each ONNX input type is fed as; a tensor is cast to it (the signature says float32 for
# an export that takes double, written before the signature existed).
DTYPES: dict[str, Any] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
    "tensor(string)": object,
}


class OnnxRuntime:
    """An ONNX Runtime session over an ONNX model's bytes: no scikit-learn input checks."""

    def __init__(self, session: onnxruntime.InferenceSession) -> None:
        self._session = session
        self._dtypes = {i.name: DTYPES.get(i.type, np.float32) for i in session.get_inputs()}
        self.input_names = list(self._dtypes)
        self.output_names = [output.name for output in session.get_outputs()]

    @classmethod
    def load(cls, content: bytes) -> Self:
        options = onnxruntime.SessionOptions()
        # One worker process per core: more threads would only contend for it.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(content, options, providers=["CPUExecutionProvider"])
        return cls(session)

    def run(self, inputs: Tensors) -> Outputs:
        feed = {
            name: np.ascontiguousarray(inputs[name], dtype=dtype)
            for name, dtype in self._dtypes.items()
        }
        results = self._session.run(self.output_names, feed)
        return dict(zip(self.output_names, results, strict=True))
