"""At load, before a version is ready: its signature bound to the artifact's tensor names, the
stored example (or synthetic rows) run through it with the outputs checked against the
signature, and the cost of a call measured: a mismatch fails the version with its reason."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson

from app.core.columns import rows_to_columns
from app.errors import ServiceError
from app.registry.outputs import check_outputs
from app.registry.signature import LEGACY_PROBABILITIES, Signature, SignatureError
from app.registry.tensors import Columns, repeat, rows_of, synthetic_columns, to_tensors
from app.runtimes.base import Runtime

CALIBRATION_ROWS = 32
EXAMPLE_ROWS = 8  # synthetic rows when no example is stored


@dataclass(frozen=True)
class CallCost:
    """What one call of a runtime costs, measured once at load: a fixed part and a per-row
    part. Models differ by a thousandfold (a linear model ~10 us a row, kNN over MNIST ~16 ms),
    and the data plane decides from this where a batch runs and how it is split."""

    fixed_seconds: float
    row_seconds: float

    def estimate(self, rows: int) -> float:
        return self.fixed_seconds + rows * self.row_seconds


def bind_signature(signature: Signature, runtime: Runtime) -> Signature:
    """The signature with its tensor names checked against the artifact's. A version written
    before signatures existed (format 0) names its one input `input`: it is bound to whatever
    the artifact's one input is called, and its probabilities to its one output."""
    if signature.format_version == 0 and len(runtime.input_names) == 1:
        outputs = signature.outputs
        if LEGACY_PROBABILITIES not in runtime.output_names and len(runtime.output_names) == 1:
            outputs = outputs.model_copy(update={"probabilities": runtime.output_names[0]})
        tensor = signature.tensors[0].model_copy(update={"name": runtime.input_names[0]})
        signature = signature.model_copy(update={"tensors": [tensor], "outputs": outputs})
    if runtime.input_names:
        unknown = [t.name for t in signature.tensors if t.name not in runtime.input_names]
        if unknown:
            raise SignatureError(
                f"the artifact has no input {unknown[0]!r} (it has: "
                f"{', '.join(runtime.input_names)})"
            )
        unfed = [name for name in runtime.input_names if name not in signature.tensor_names]
        if unfed:
            raise SignatureError(
                f"the signature feeds nothing to the artifact's input {unfed[0]!r}"
            )
    return signature


def stored_rows(example: bytes) -> list[Any]:
    """The rows of a stored example file: JSON records, bare or as `dataframe_records` or
    `instances` (SignatureError when it is not a list of rows)."""
    try:
        document = orjson.loads(example)
    except orjson.JSONDecodeError as exc:
        raise SignatureError("the stored example is not JSON") from exc
    if isinstance(document, dict):
        document = document.get("dataframe_records", document.get("instances"))
    if not isinstance(document, list) or not document:
        raise SignatureError("the stored example is not a list of rows")
    return document


def example_columns(signature: Signature, example: bytes | None) -> Columns:
    """The stored example rows (JSON records), checked as a request's would be; else rows made
    from what was observed (zeros for a version without a signature)."""
    if example is None:
        return synthetic_columns(signature, EXAMPLE_ROWS)
    document = stored_rows(example)
    if signature.is_image:  # records {"image": pixels}; a request sends the pixels themselves
        name = signature.inputs[0].name
        document = [row.get(name) if isinstance(row, dict) else row for row in document]
    try:
        return rows_to_columns(document, signature, max_rows=10_000, where="example")
    except ServiceError as exc:
        raise SignatureError(f"the stored example does not fit the signature: {exc}") from exc


def _best_of(runtime: Runtime, columns: Columns, signature: Signature, times: int) -> float:
    tensors = to_tensors(signature, columns)
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        runtime.run(tensors)
        best = min(best, time.perf_counter() - started)
    return best


def check_and_time(signature: Signature, runtime: Runtime, example: Columns) -> CallCost:
    """Run the example, check what comes out (SignatureError), then time a batch of
    CALIBRATION_ROWS rows and one row (runtimes that resize for a batch are left sized for
    one): also the version's warm-up before its first request."""
    rows = rows_of(example)
    check_outputs(signature, runtime.run(to_tensors(signature, example)), rows)
    batch = _best_of(runtime, repeat(example, CALIBRATION_ROWS), signature, 2)
    one = _best_of(runtime, repeat(example, 1), signature, 3)
    row = max(batch - one, 0.0) / (CALIBRATION_ROWS - 1)
    return CallCost(max(one - row, 0.0), row)
