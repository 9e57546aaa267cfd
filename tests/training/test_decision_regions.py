"""The decision-regions picture records where its axes are, so a page can place a flower on it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from training import iris
from training.plots import decision_regions_geometry, decision_regions_plot


def _pixel(
    geometry: dict[str, list[float]], x: float, y: float, size: tuple[int, int]
) -> tuple[int, int]:
    """Where iris.js puts a flower: the recorded ranges mapped into the axes box."""
    (x0, x1), (y0, y1) = geometry["x_range"], geometry["y_range"]
    left, bottom, right, top = geometry["axes_box"]
    fraction_x = left + (x - x0) / (x1 - x0) * (right - left)
    fraction_y = bottom + (y - y0) / (y1 - y0) * (top - bottom)
    return round(fraction_x * size[0]), round((1 - fraction_y) * size[1])


def test_the_recorded_mapping_puts_a_training_point_on_its_marker(tmp_path: Path) -> None:
    data = iris.load()
    geometry = decision_regions_geometry(data.train_features, iris.FEATURES)
    assert geometry["x_feature"] == "sepal_length" and geometry["y_feature"] == "sepal_width"
    path = tmp_path / "decision_regions.png"
    # One class everywhere: the background is one flat colour, the points' black edges stand out.
    decision_regions_plot(
        path,
        lambda grid: np.zeros(len(grid), dtype=np.int64),
        data.train_features,
        data.train_targets,
        data.class_labels,
        "test",
        geometry,
    )
    with Image.open(path) as image:
        picture = np.asarray(image.convert("L"), dtype=np.int64)
    size = (picture.shape[1], picture.shape[0])
    left, bottom, right, top = geometry["axes_box"]
    # The axes' frame (black spines) is where the box says, within a pixel.
    column = round(left * size[0])
    middle = round((1 - (bottom + top) / 2) * size[1])
    assert picture[middle, column - 1 : column + 2].min() < 60
    # The point with the smallest sepal length, alone at the left: its black edge is at the
    # mapped pixel, within the marker's radius (about 3 pixels), and the plot's background is not.
    x, y = data.train_features[np.argmin(data.train_features[:, 0]), :2]
    px, py = _pixel(geometry, float(x), float(y), size)
    assert (
        left * size[0] < px < right * size[0] and (1 - top) * size[1] < py < (1 - bottom) * size[1]
    )
    assert picture[py - 4 : py + 5, px - 4 : px + 5].min() < 60
    far = _pixel(geometry, geometry["x_range"][0] + 0.2, geometry["y_range"][0] + 0.2, size)
    assert picture[far[1] - 2 : far[1] + 3, far[0] - 2 : far[0] + 3].min() > 100


def test_trained_iris_versions_record_the_mapping(quick_registry: Path) -> None:
    for folder in sorted(quick_registry.glob("iris-*/1")):
        metrics = json.loads((folder / "metadata.json").read_text())["metrics"]
        geometry = metrics["decision_regions"]
        with Image.open(folder / "decision_regions.png") as picture:
            size = picture.size
        x0, x1 = geometry["x_range"]
        y0, y1 = geometry["y_range"]
        px, py = _pixel(geometry, (x0 + x1) / 2, (y0 + y1) / 2, size)
        assert 0 < px < size[0] and 0 < py < size[1], folder
