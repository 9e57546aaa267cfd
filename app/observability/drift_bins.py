"""The bins drift is measured in, from a signature's observed data: a reference histogram per
column (numbers at the training deciles, text by known category) and the population stability
index of a window of served values against it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from app.registry.signature import Column

# An empty bin counts as this fraction, on either side, so that the PSI stays finite.
EPSILON = 1e-4
MISSING = "missing"
UNSEEN = "unseen"
NUMBER_TYPES = ("float32", "float64", "int64")
DECILE_LEVELS = [round(0.1 * i, 1) for i in range(1, 10)]


@dataclass(frozen=True)
class Bins:
    """A column's reference histogram: one label and fraction per bin. Numbers: `edges` (the
    distinct training deciles), bins up to each edge, one above, then `missing`. Text: one bin per
    known category, then `missing` and `unseen`."""

    labels: list[str]
    fractions: list[float]
    edges: list[float] | None = None
    categories: dict[str, int] | None = None  # category -> its bin

    def counts(self, values: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
        """How many of `values` fall in each bin; never raises on odd values."""
        size = len(self.labels)
        if self.edges is not None:
            numbers = np.asarray(values, dtype=np.float64)
            gaps = np.isnan(numbers)
            found = np.searchsorted(np.asarray(self.edges), numbers[~gaps], side="left")
            counts = np.bincount(found, minlength=size)
            counts[-1] += int(gaps.sum())
            return counts.astype(np.int64)
        assert self.categories is not None
        known, missing, unseen = self.categories, size - 2, size - 1
        codes = [_code(value, known, missing, unseen) for value in values.tolist()]
        return np.bincount(np.asarray(codes, dtype=np.int64), minlength=size).astype(np.int64)


def _code(value: object, known: dict[str, int], missing: int, unseen: int) -> int:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    text = str(value)
    found = known.get(text)
    if found is not None:
        return found
    return missing if text.strip() == "" else unseen


def column_bins(column: Column) -> Bins | None:
    """The reference bins of a column, or None when its signature records no reference."""
    seen = column.observed
    if seen is None or column.type == "image":
        return None
    rows, missing = seen.rows or 0, seen.missing or 0
    gap_share = missing / rows if rows > 0 else 0.0
    if column.type in NUMBER_TYPES:
        if not seen.deciles or len(seen.deciles) != len(DECILE_LEVELS):
            return None
        edges: list[float] = []
        levels: list[float] = []
        for value, level in zip(seen.deciles, DECILE_LEVELS, strict=True):
            if edges and value == edges[-1]:
                levels[-1] = level  # tied deciles: one bin holds all their mass
            else:
                edges.append(float(value))
                levels.append(level)
        shares = np.diff([0.0, *levels, 1.0]) * (1.0 - gap_share)
        labels = [f"<= {edges[0]:g}"]
        labels += [f"({a:g}, {b:g}]" for a, b in zip(edges, edges[1:], strict=False)]
        labels += [f"> {edges[-1]:g}", MISSING]
        return Bins(labels, [*shares.tolist(), gap_share], edges=edges)
    if not seen.categories:
        return None
    names = list(seen.categories)
    counts = [*seen.categories.values(), missing, int(getattr(seen, "other", 0) or 0)]
    total = sum(counts)
    if total <= 0:
        return None
    return Bins(
        [*names, MISSING, UNSEEN],
        [count / total for count in counts],
        categories={name: index for index, name in enumerate(names)},
    )


def class_bins(labels: list[str], metrics: dict[str, Any]) -> Bins | None:
    """A classifier's predicted class mix on its eval set: the column totals of the confusion
    matrix in its metrics (rows true, columns predicted), or None when it has none."""
    matrix = metrics.get("confusion_matrix")
    try:
        totals = np.asarray(matrix, dtype=np.float64).sum(axis=0)
    except (TypeError, ValueError):
        return None
    if totals.shape != (len(labels),) or not totals.sum() > 0:
        return None
    return Bins(list(labels), (totals / totals.sum()).tolist())


def psi(reference: list[float], current: npt.NDArray[np.float64]) -> float:
    """The population stability index, sum((cur - ref) * ln(cur / ref)), each fraction at
    least EPSILON."""
    expected = np.maximum(np.asarray(reference, dtype=np.float64), EPSILON)
    actual = np.maximum(current, EPSILON)
    return float(np.sum((actual - expected) * np.log(actual / expected)))
