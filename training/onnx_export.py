"""Export a fitted scikit-learn model to ONNX, kept only if it agrees with the original."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from training.spec import Array

# An export is written only when it reproduces the fitted model this closely on the test set.
MIN_LABEL_AGREEMENT = 0.999
MAX_PROBABILITY_DIFF = 1e-4
# A larger export is not kept: ONNX Runtime's tree kernels take several times the file in
# memory. mnist-random-forest's export, 74 MB as converted, took 361 MB resident and 2.0 s to
# load; with its zero class weights dropped (_drop_zero_class_weights) it is 33 MB, 179 MB and
# 1.0 s, against 244 MB and 2.3 s for the joblib pickle (scikit-learn imported).
MAX_EXPORT_BYTES = 40_000_000
# Checked on this many test rows first: an export that disagrees (kNN's distances in another
# precision) fails in seconds instead of scoring the whole test set.
FIRST_CHECK_ROWS = 500
CHECK_CHUNK_ROWS = 500
OUTPUT = "probabilities"


def _session(flatbuffer: bytes) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(flatbuffer, options, providers=["CPUExecutionProvider"])


def onnx_predict(session: Any, batch: Array) -> Array:
    """Class probabilities from the export, fed in the input type it was converted for."""
    source = session.get_inputs()[0]
    dtype = np.float64 if source.type == "tensor(double)" else np.float32
    (probabilities,) = session.run([OUTPUT], {source.name: np.asarray(batch, dtype=dtype)})
    return np.asarray(probabilities, dtype=np.float64)


def _drop_zero_class_weights(model: Any) -> Any:
    """skl2onnx writes every class's weight for every leaf of a tree ensemble, zeros included;
    a leaf adds its weights to the classes it names, so dropping the zeros changes no output.
    A forest's leaves are mostly pure: this shrank mnist-random-forest's export from 74 MB to
    33 MB."""
    for node in model.graph.node:
        if node.op_type != "TreeEnsembleClassifier":
            continue
        attributes = {attribute.name: attribute for attribute in node.attribute}
        weights = attributes.get("class_weights")
        if weights is None:  # double-precision weights, as a tensor: left as they are
            continue
        keep = np.asarray(weights.floats) != 0
        for name in ("class_treeids", "class_nodeids", "class_ids"):
            kept = np.asarray(attributes[name].ints)[keep].tolist()
            del attributes[name].ints[:]
            attributes[name].ints.extend(kept)
        kept_weights = np.asarray(weights.floats)[keep].tolist()
        del weights.floats[:]
        weights.floats.extend(kept_weights)
    return model


def _options(estimator: Any) -> dict[Any, Any]:
    """Converter options: plain probability arrays (no ZipMap); kNN's distances with the CDist
    operator, where skl2onnx's default loops over them with Scan (mnist-knn, one row: 94 ms
    with Scan, 7 ms with CDist; scikit-learn's pickle ~25 ms over HTTP)."""
    from sklearn.neighbors import KNeighborsClassifier

    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    if isinstance(final, KNeighborsClassifier):
        return {id(final): {"zipmap": False, "optim": "cdist"}}
    return {"zipmap": False}


def _convert(estimator: Any, sample: Array, dtype: type) -> Any:
    from skl2onnx import to_onnx

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # converter notes on opsets, not on the model
        model = to_onnx(estimator, sample[:1].astype(dtype), options=_options(estimator))
    return _drop_zero_class_weights(model)


def _check(expected: Array, flatbuffer: bytes, batch: Array) -> dict[str, Any]:
    """How closely the export reproduces the `expected` probabilities of `batch`."""
    session = _session(flatbuffer)
    # In chunks: kNN's export holds a chunk x training rows distance matrix.
    got = np.concatenate(
        [
            onnx_predict(session, batch[start : start + CHECK_CHUNK_ROWS])
            for start in range(0, len(batch), CHECK_CHUNK_ROWS)
        ]
    )
    agreement = float((expected.argmax(1) == got.argmax(1)).mean())
    max_diff = float(np.abs(expected - got).max())
    return {
        "exported": agreement >= MIN_LABEL_AGREEMENT and max_diff <= MAX_PROBABILITY_DIFF,
        "test_rows": len(batch),
        "label_agreement": round(agreement, 6),
        "max_abs_probability_diff": max_diff,
    }


def export_onnx(estimator: Any, test_features: Array) -> tuple[bytes | None, dict[str, Any]]:
    """The ONNX flatbuffer (None when it fails or disagrees) and the agreement to record.

    Double precision is tried first; float32 next, which is what scikit-learn's trees compare
    in and the only type ONNX Runtime's tree kernels take for some of them.
    """
    batch = np.asarray(test_features, dtype=np.float64)  # what the server passes
    expected = np.asarray(estimator.predict_proba(batch), dtype=np.float64)
    first = slice(0, FIRST_CHECK_ROWS)
    record: dict[str, Any] = {"exported": False}
    for dtype in (np.float64, np.float32):
        try:
            flatbuffer = _convert(estimator, batch, dtype).SerializeToString()
            if len(flatbuffer) > MAX_EXPORT_BYTES:
                return None, {
                    "exported": False,
                    "export_bytes": len(flatbuffer),
                    "reason": f"the export is over {MAX_EXPORT_BYTES / 1e6:g} MB",
                }
            record = _check(expected[first], flatbuffer, batch[first])
            if record["exported"]:
                record = _check(expected, flatbuffer, batch)
            record["input_type"] = np.dtype(dtype).name
            record["export_bytes"] = len(flatbuffer)
        except Exception as exc:  # no converter or kernel for this type: try the next
            record = {"exported": False, "reason": f"{type(exc).__name__}: {str(exc)[:300]}"}
            continue
        if record["exported"]:
            return flatbuffer, record
    record.setdefault(
        "reason",
        f"disagrees with the fitted model (needs labels >= {MIN_LABEL_AGREEMENT}, "
        f"probabilities within {MAX_PROBABILITY_DIFF})",
    )
    return None, record
