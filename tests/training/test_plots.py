"""The confusion matrix and the comparison plot are legible at the size they are shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.text import Annotation, Text
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix

from training.comparison_plot import comparison_figure, comparison_plot
from training.comparison_rows import pareto
from training.plots import confusion_matrix_figure, confusion_matrix_plot

# Iris-like rows: six models within a few µs and one test row (0.0333) of each other.
IRIS_LIKE = [
    ("iris-logistic-regression", 0.9667, 28.0),
    ("iris-svm", 0.9667, 31.0),
    ("iris-knn", 0.9667, 33.0),
    ("iris-naive-bayes", 0.9333, 30.0),
    ("iris-decision-tree", 0.9667, 29.5),
    ("iris-random-forest", 1.0, 120.0),
]


def _digits_matrix() -> tuple[list[list[int]], list[str]]:
    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    model = LogisticRegression(max_iter=500).fit(X[:300], y[:300])
    labels = [str(label) for label in range(10)]
    matrix = confusion_matrix(y[300:600], model.predict(X[300:600]), labels=range(10))
    return matrix.tolist(), labels


def _comparison() -> dict[str, Any]:
    rows: list[dict[str, Any]] = [
        {"name": name, "accuracy": accuracy, "one_row_median_us": latency}
        for name, accuracy, latency in IRIS_LIKE
    ]
    pareto(rows)
    return {"dataset": "iris", "rows": rows}


def test_confusion_matrix_of_ten_classes_names_every_class_legibly(tmp_path: Path) -> None:
    matrix, labels = _digits_matrix()
    fig = confusion_matrix_figure(matrix, labels, "digits")
    (ax,) = fig.axes
    for ticks in (ax.get_xticklabels(), ax.get_yticklabels()):
        assert [tick.get_text() for tick in ticks] == labels
        assert all(tick.get_fontsize() >= 9 for tick in ticks)
    counts = [child for child in ax.texts if isinstance(child, Text)]
    assert len(counts) == 100 and all(count.get_fontsize() >= 9 for count in counts)
    plt.close(fig)

    path = tmp_path / "confusion_matrix.png"
    confusion_matrix_plot(path, matrix, labels, "digits")
    with Image.open(path) as image:
        width, height = image.size
    assert width >= 50 * 10 and height >= 50 * 10


def test_comparison_labels_of_close_points_do_not_overlap(tmp_path: Path) -> None:
    fig = comparison_figure(_comparison())
    (ax,) = fig.axes
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    labels = [text for text in ax.texts if isinstance(text, Annotation)]
    assert sorted(label.get_text() for label in labels) == sorted(
        name.split("-", 1)[1] for name, _, _ in IRIS_LIKE
    )
    boxes = [label.get_window_extent(renderer) for label in labels]
    figure_box = fig.bbox
    for index, box in enumerate(boxes):
        assert figure_box.x0 <= box.x0 and box.x1 <= figure_box.x1
        assert figure_box.y0 <= box.y0 and box.y1 <= figure_box.y1
        for other in boxes[index + 1 :]:
            assert not box.overlaps(other), (box, other)
    plt.close(fig)

    path = tmp_path / "comparison.png"
    comparison_plot(path, _comparison())
    with Image.open(path) as image:
        assert image.size == (675, 432)  # 7.5 x 4.8 in at 90 dpi, as before
