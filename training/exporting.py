"""The export the server will load, chosen among the candidates for a model by checking each
against the original: ONNX (scikit-learn in the most faithful precision first, boosters),
TFLite (Keras), the file itself (.onnx), or the pickle (--keep-pickle)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from training import verify
from training.importers import (
    Export,
    ImportRefusedError,
    Original,
    boosters,
    first_line,
    sklearn,
)


def export_verified(
    original: Original,
    inputs: list[dict[str, Any]],
    task: str,
    keep_pickle: bool,
    rows: pd.DataFrame,
    tolerance: float,
    examples: int,
    given: Export | None = None,
) -> tuple[Export, dict[str, Any]]:
    """The first export that reproduces the original on `rows` (the first `examples` of them
    example rows), with its verification figures; `given`: the file is its own export (.onnx)."""
    try:
        expected = original.predict(rows)
    except Exception as exc:
        hint = "" if examples else "; give --example FILE with a few real rows"
        raise ImportRefusedError(
            f"{original.algorithm} failed to predict the rows to verify with "
            f"({type(exc).__name__}: {first_line(exc)}){hint}"
        ) from exc
    attempts: list[Any] = []
    if given is not None:
        attempts = [lambda: given]
    elif keep_pickle:
        attempts = [lambda: pickle_export(original, inputs)]
    elif original.framework == "keras":
        from training.importers import keras

        attempts = [lambda: keras.export(original, inputs)]
    elif boosters.is_booster(original.model):
        attempts = [lambda: boosters.export(original, inputs, task)]
    else:
        attempts = [
            lambda precision=p: sklearn.export(original, inputs, task, precision)
            for p in sklearn.precisions(original.model)
        ]
    failures: list[str] = []
    for attempt in attempts:
        try:
            exported = attempt()
            record = verify.compare(task, expected, exported.predict(rows), examples, tolerance)
        except ImportRefusedError:
            raise
        except Exception as exc:
            failures.append(f"attempt {len(failures) + 1}: {type(exc).__name__}: {first_line(exc)}")
            continue
        if record["passed"]:
            # Why the more faithful exports were not kept: metadata.json says so.
            record["rejected_exports"] = failures
            return exported, record
        failures.append(f"{exported.notes[0]}: {record['reason']}")
    raise ImportRefusedError(f"converting {original.algorithm} failed: {failures[-1]}")


def labels_seen(answers: dict[str, Any]) -> list[Any]:
    """Class labels of a model that does not list them: its probabilities' columns (0, 1, ...),
    else the labels it answered."""
    if "probabilities" in answers:
        return list(range(np.asarray(answers["probabilities"]).shape[1]))
    seen = {v.item() if isinstance(v, np.generic) else v for v in np.ravel(answers["label"])}
    return sorted(seen)


def pickle_export(original: Original, inputs: list[dict[str, Any]]) -> Export:
    """--keep-pickle: the original itself, served only with SERVING_ALLOW_PICKLE."""
    if original.pickled is None:
        raise ImportRefusedError(f"--keep-pickle: {original.algorithm} is not a scikit-learn model")
    tensor = {
        "name": "X",
        "type": "float64",
        "columns": [c["name"] for c in inputs],
        "shape": [len(inputs)],
    }
    outputs: dict[str, str | None] = {
        "label": "label",
        "probabilities": "probabilities",
        "value": None,
    }
    if original.task == "regression":
        outputs = {"value": "value"}
    return Export(
        "model.joblib",
        original.pickled,
        [tensor],
        outputs,
        original.predict,
        ["the pickle, as given"],
    )
