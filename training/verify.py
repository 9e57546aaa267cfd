"""The export against the original, on the same rows: labels, probabilities and values, with the
figures recorded in metadata.json and printed by python -m training import."""

from __future__ import annotations

from typing import Any

import numpy as np

from training.importers import Predictions

DEFAULT_TOLERANCE = 1e-4
MIN_LABEL_AGREEMENT = 0.999


def _labels(values: Any) -> Any:
    return np.asarray([str(v) for v in np.asarray(values).reshape(-1)])


def compare(
    task: str, expected: Predictions, got: Predictions, example_rows: int, tolerance: float
) -> dict[str, Any]:
    """How closely `got` (the export) reproduces `expected` (the original): labels equal on every
    example row and on MIN_LABEL_AGREEMENT of the others, probabilities within `tolerance`,
    values within `tolerance` relative (to the value, or 1 when the value is smaller)."""
    rows = len(next(iter(expected.values())))
    record: dict[str, Any] = {"rows": rows, "example_rows": example_rows, "tolerance": tolerance}
    problems = []
    if task == "classification":
        if "label" in expected and "label" in got:
            same = _labels(expected["label"]) == _labels(got["label"])
            record["label_agreement"] = round(float(same.mean()), 6)
            if not same[:example_rows].all():
                problems.append("a label differs on an example row")
            if same.mean() < MIN_LABEL_AGREEMENT:
                problems.append(f"labels agree on {same.mean():.2%} of the rows")
        if "probabilities" in expected and "probabilities" in got:
            difference = np.abs(
                np.asarray(expected["probabilities"], dtype=np.float64)
                - np.asarray(got["probabilities"], dtype=np.float64).reshape(rows, -1)
            )
            record["max_abs_probability_diff"] = float(difference.max())
            if difference.max() > tolerance:
                problems.append(f"probabilities differ by up to {difference.max():.3g}")
    else:
        want = np.asarray(expected["value"], dtype=np.float64).reshape(rows, -1)
        have = np.asarray(got["value"], dtype=np.float64).reshape(rows, -1)
        relative = np.abs(want - have) / np.maximum(np.abs(want), 1.0)
        record["max_relative_value_diff"] = float(relative.max())
        if relative.max() > tolerance:
            problems.append(f"values differ by up to {relative.max():.3g} relative")
    record["passed"] = not problems
    if problems:
        record["reason"] = "; ".join(problems) + f" (tolerance {tolerance:g})"
    return record


def summary(record: dict[str, Any]) -> str:
    """One line of figures, as printed."""
    parts = [f"{record['rows']} rows ({record['example_rows']} example)"]
    if "label_agreement" in record:
        parts.append(f"labels equal {record['label_agreement']:.2%}")
    if "max_abs_probability_diff" in record:
        parts.append(f"max |probability diff| {record['max_abs_probability_diff']:.2g}")
    if "max_relative_value_diff" in record:
        parts.append(f"max relative value diff {record['max_relative_value_diff']:.2g}")
    parts.append(f"tolerance {record['tolerance']:g}")
    return ", ".join(parts)
