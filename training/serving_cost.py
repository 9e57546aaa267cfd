"""What a version costs to serve, measured through the runtime the server uses: ONNX Runtime
for model.onnx, the LiteRT interpreter for model.tflite, one thread each as in the server."""

from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import Any

import numpy as np

from training.spec import Array

BATCH_ROWS = 256
SECONDS = 1.0  # timing each of one-row calls and batches, after at least LEAST calls
LEAST = {"one_row": 50, "batch": 5}
MOST = {"one_row": 3000, "batch": 200}
RUNTIMES = {"model.onnx": "onnxruntime", "model.tflite": "ai-edge-litert"}  # distributions
MODULES = {"model.onnx": "onnxruntime", "model.tflite": "ai_edge_litert.interpreter"}


def resident_bytes() -> int | None:
    """This process's resident memory (Linux /proc); None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _session(content: bytes) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # as app/runtimes/onnx.py: one worker process per core
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(content, options, providers=["CPUExecutionProvider"])


def _onnx(content: bytes) -> Any:
    session = _session(content)
    source = session.get_inputs()[0]
    dtype = np.float64 if source.type == "tensor(double)" else np.float32

    def predict(rows: Array) -> Any:
        return session.run(["probabilities"], {source.name: rows.astype(dtype)})[0]

    return predict


def _tflite(content: bytes) -> Any:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=content, num_threads=1)  # as app/runtimes/tflite.py
    source = interpreter.get_input_details()[0]
    shape = [int(d) for d in source["shape_signature"][1:]]
    target = interpreter.get_output_details()[0]["index"]
    sized = [-1]

    def predict(rows: Array) -> Any:
        batch = rows.astype(np.float32).reshape(-1, *shape)
        if len(batch) != sized[0]:  # resized when the batch size changes, as the server does
            interpreter.resize_tensor_input(source["index"], [len(batch), *shape])
            interpreter.allocate_tensors()
            sized[0] = len(batch)
        interpreter.set_tensor(source["index"], batch)
        interpreter.invoke()
        return interpreter.get_tensor(target)

    return predict


LOADERS = {"model.onnx": _onnx, "model.tflite": _tflite}


def _timed_calls(predict: Any, batches: list[Array], seconds: float, kind: str) -> Array:
    least, most = LEAST[kind], MOST[kind]
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < most and (len(times) < least or time.perf_counter() - started < seconds):
        batch = batches[len(times) % len(batches)]
        before = time.perf_counter()
        predict(batch)
        times.append(time.perf_counter() - before)
    return np.asarray(times)


def _measured(load: Any, batches: list[Any], singles: list[Any], seconds: float) -> dict[str, Any]:
    before = resident_bytes()
    predict = load()
    predict(batches[0])
    batch_times = _timed_calls(predict, batches, seconds, "batch")
    after = resident_bytes()
    predict(singles[0])
    one_times = _timed_calls(predict, singles, seconds, "one_row")
    return {
        "one_row_median_us": round(float(np.median(one_times)) * 1e6, 1),
        "one_row_p99_us": round(float(np.percentile(one_times, 99)) * 1e6, 1),
        "one_row_calls": len(one_times),
        "batch_rows_per_second": round(BATCH_ROWS / float(np.median(batch_times))),
        "batch_calls": len(batch_times),
        "memory_bytes": None if before is None or after is None else max(after - before, 0),
    }


def measure(artifact: str, content: bytes, rows: Array, seconds: float = SECONDS) -> dict[str, Any]:
    """Load the artifact's bytes, then time single rows (median, p99) and 256-row batches;
    memory is the growth of this process's resident set from loading and running it. Meant to
    run in a fresh process, so one model's memory and caches do not colour the next."""
    importlib.import_module(MODULES[artifact])  # the library is not the model's memory
    if len(rows) < BATCH_ROWS:  # Iris has 45 test rows: repeat them
        rows = np.resize(rows, (BATCH_ROWS, *rows.shape[1:]))
    starts = range(0, len(rows) - BATCH_ROWS + 1, BATCH_ROWS)
    batches = [rows[start : start + BATCH_ROWS] for start in starts]
    singles = [rows[i : i + 1] for i in range(min(len(rows), 1000))]
    return _measured(lambda: LOADERS[artifact](content), batches, singles, seconds)


def _feeding(artifact: str, content: bytes, outputs: list[str]) -> Any:
    """predict(tensors by name) for an artifact with a signature: every named output of an ONNX
    graph, or the one input of a TFLite file."""
    if artifact == "model.tflite":
        predict_rows = _tflite(content)
        return lambda tensors: predict_rows(next(iter(tensors.values())))
    session = _session(content)
    return lambda tensors: session.run(outputs, tensors)


def measure_tensors(
    artifact: str,
    content: bytes,
    tensors: dict[str, Array],
    outputs: list[str],
    seconds: float = SECONDS,
) -> dict[str, Any]:
    """As measure(), fed a few rows already as the artifact's input tensors (an imported
    model's example rows, as its signature feeds them), repeated into the 256-row batches."""
    importlib.import_module(MODULES[artifact])
    rows = len(next(iter(tensors.values())))
    repeated = {name: values[np.arange(BATCH_ROWS) % rows] for name, values in tensors.items()}
    singles = [{name: values[i : i + 1] for name, values in tensors.items()} for i in range(rows)]
    return _measured(lambda: _feeding(artifact, content, outputs), [repeated], singles, seconds)
