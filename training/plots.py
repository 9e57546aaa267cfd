"""The PNG plots saved beside every model version."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

CONFUSION_MATRIX_INCHES_PER_CLASS = 0.6
CONFUSION_MATRIX_DPI = 100


def confusion_matrix_figure(matrix: list[list[int]], labels: list[str], title: str) -> Figure:
    """Counts of true (rows) against predicted (columns) classes, every class named on both axes
    and every count at 10 pt: the figure grows with the class count, 0.6 in (60 px) per class."""
    data = np.asarray(matrix)
    size = 1.8 + CONFUSION_MATRIX_INCHES_PER_CLASS * len(labels)  # + room for labels and title
    fig, ax = plt.subplots(figsize=(size, size), dpi=CONFUSION_MATRIX_DPI)
    ax.imshow(data, cmap="Blues")
    long_labels = max((len(label) for label in labels), default=0) > 3
    ax.set_xticks(
        range(len(labels)),
        labels,
        rotation=45 if long_labels else 0,
        ha="right" if long_labels else "center",
        rotation_mode="anchor",
        fontsize=10,
    )
    ax.set_yticks(range(len(labels)), labels, fontsize=10)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    threshold = data.max() / 2
    for (row, col), count in np.ndenumerate(data):
        colour = "white" if count > threshold else "black"
        ax.text(col, row, str(count), ha="center", va="center", color=colour, fontsize=10)
    fig.tight_layout()
    return fig


def confusion_matrix_plot(
    path: Path, matrix: list[list[int]], labels: list[str], title: str
) -> None:
    """confusion_matrix_figure, saved as a PNG."""
    fig = confusion_matrix_figure(matrix, labels, title)
    fig.savefig(path, dpi=CONFUSION_MATRIX_DPI)
    plt.close(fig)


# Where decision_regions_plot puts its axes, in fractions of the picture from its lower left
# (left, bottom, right, top): fixed, so a page can place a flower on the saved PNG.
DECISION_REGIONS_AXES_BOX = (0.12, 0.11, 0.96, 0.92)


def decision_regions_geometry(
    features: npt.NDArray[np.float64], feature_names: list[str]
) -> dict[str, Any]:
    """How decision_regions_plot maps sepal measurements onto its picture: the two features, their
    ranges (the training points' with 0.5 cm to spare) and the axes box; kept in the metadata
    (metrics.decision_regions)."""
    x, y = features[:, 0], features[:, 1]
    return {
        "x_feature": feature_names[0],
        "y_feature": feature_names[1],
        "x_range": [round(float(x.min()) - 0.5, 4), round(float(x.max()) + 0.5, 4)],
        "y_range": [round(float(y.min()) - 0.5, 4), round(float(y.max()) + 0.5, 4)],
        "axes_box": list(DECISION_REGIONS_AXES_BOX),
    }


def decision_regions_plot(
    path: Path,
    predict: Callable[[npt.NDArray[np.float64]], npt.NDArray[np.integer[Any]]],
    features: npt.NDArray[np.float64],
    targets: npt.NDArray[np.integer[Any]],
    labels: list[str],
    title: str,
    geometry: dict[str, Any],
) -> None:
    """Predicted class over sepal length x sepal width (petals held at their training means),
    drawn over `geometry`'s ranges inside its axes box."""
    (x_min, x_max), (y_min, y_max) = geometry["x_range"], geometry["y_range"]
    grid_x, grid_y = np.meshgrid(np.linspace(x_min, x_max, 200), np.linspace(y_min, y_max, 200))
    grid = np.tile(features.mean(axis=0), (grid_x.size, 1))
    grid[:, 0], grid[:, 1] = grid_x.ravel(), grid_y.ravel()
    regions = predict(grid).reshape(grid_x.shape)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    left, bottom, right, top = geometry["axes_box"]
    fig.subplots_adjust(left=left, bottom=bottom, right=right, top=top)
    ax.contourf(grid_x, grid_y, regions, alpha=0.3, cmap="viridis", levels=len(labels) - 1)
    scatter = ax.scatter(
        features[:, 0], features[:, 1], c=targets, cmap="viridis", edgecolor="k", s=20
    )
    ax.set_xlim(x_min, x_max)
    ax.set_ylim(y_min, y_max)
    ax.legend(scatter.legend_elements()[0], labels, loc="upper right", fontsize=8)
    ax.set_xlabel("sepal length (cm)")
    ax.set_ylabel("sepal width (cm)")
    ax.set_title(title)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def training_history_plot(path: Path, history: dict[str, list[float]], title: str) -> None:
    """Loss and accuracy per epoch, training and validation."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        epochs = range(1, len(history[metric]) + 1)
        ax.plot(epochs, history[metric], marker="o", label="training")
        ax.plot(epochs, history[f"val_{metric}"], marker="o", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def learning_curve_plot(path: Path, curve: dict[str, Any], title: str) -> None:
    """Training and testing error against training rows (with the spread across folds) or
    against epochs; the subsample, when there is one, is said under the title."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    if curve["method"] == "epochs":
        x = np.asarray(curve["epochs"])
        ax.plot(x, curve["train_error"], marker="o", label="training")
        ax.plot(x, curve["test_error"], marker="o", label="validation")
        ax.set_xlabel("epoch")
    else:
        x = np.asarray(curve["train_sizes"])
        for kind, label in (("train", "training"), ("test", f"held out ({curve['folds']} folds)")):
            mean = np.asarray(curve[f"{kind}_error_mean"])
            spread = np.asarray(curve[f"{kind}_error_std"])
            ax.plot(x, mean, marker="o", label=label)
            ax.fill_between(x, mean - spread, mean + spread, alpha=0.2)
        ax.set_xlabel("training rows")
        if curve.get("subsample"):
            title += f"\non a subsample: {curve['subsample']}"
    ax.set_ylabel("error (1 - accuracy)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def predicted_actual_plot(
    path: Path, actual: npt.NDArray[Any], predicted: npt.NDArray[Any], title: str
) -> None:
    """A regressor's predictions against the true values, with the diagonal where they agree."""
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(actual, predicted, s=8, alpha=0.6)
    low = float(min(np.min(actual), np.min(predicted)))
    high = float(max(np.max(actual), np.max(predicted)))
    ax.plot([low, high], [low, high], color="grey", linewidth=1)
    ax.set_xlabel("actual")
    ax.set_ylabel("predicted")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
