"""The comparison's plot: each model's main metric (accuracy, or R² for regressors) against its
one-row serving latency, one panel a task, the Pareto front joined up and every point named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import LogFormatter  # noqa: E402

from training.comparison_rows import PRIMARY, task_of  # noqa: E402
from training.plot_labels import place_labels  # noqa: E402

COMPARISON_DPI = 90
PANEL_INCHES = (7.5, 4.8)
MIN_SPAN = 4.0  # the latency axis spans at least this factor
METRIC_WORDS = {"accuracy": ("accuracy", "more accurate"), "r2": ("R²", "higher in R²")}


def _metric_label(metric: str, rows: list[dict[str, Any]]) -> str:
    """Where the metric was measured: the test split (trained here), the eval file (imported)."""
    word = METRIC_WORDS[metric][0]
    imported = {bool(row.get("imported")) for row in rows}
    if imported == {False}:
        return f"test {word}"
    if imported == {True}:
        return f"{word} on the eval file"
    return f"{word} (test split; imported: eval file)"


def point_name(name: str, dataset: str) -> str:
    """A point's label: the model's name without its dataset's prefix (iris-svm: svm)."""
    prefix = f"{dataset}-"
    return name[len(prefix) :] if name.startswith(prefix) and len(name) > len(prefix) else name


def _panel(ax: Axes, rows: list[dict[str, Any]], metric: str, title: str) -> list[Any]:
    """One task's points on `ax`; the points plotted, for their labels."""
    points = [r for r in rows if r.get(metric) is not None and r.get("one_row_median_us")]
    for row in points:
        colour = "tab:red" if row.get("pareto") else "tab:blue"
        ax.scatter(row["one_row_median_us"], row[metric], color=colour, zorder=3)
    front = sorted((r for r in points if r.get("pareto")), key=lambda r: r["one_row_median_us"])
    ax.step(
        [r["one_row_median_us"] for r in front],
        [r[metric] for r in front],
        where="post",
        color="tab:red",
        alpha=0.6,
        label=f"Pareto front: nothing both faster and {METRIC_WORDS[metric][1]}",
    )
    if not points:
        ax.text(0.5, 0.5, "no metrics to plot", ha="center", transform=ax.transAxes)
    ax.set_xscale("log")
    ax.margins(x=0.15, y=0.12)  # room for the labels of the outermost points
    latencies = [row["one_row_median_us"] for row in points]
    if latencies and max(latencies) / min(latencies) < MIN_SPAN:
        # At least a factor of MIN_SPAN across: 15 against 16 µs is noise, not a gulf.
        pad = (MIN_SPAN * min(latencies) / max(latencies)) ** 0.5
        ax.set_xlim(min(latencies) / pad, max(latencies) * pad)
    for axis_formatter in (ax.xaxis.set_major_formatter, ax.xaxis.set_minor_formatter):
        axis_formatter(LogFormatter(minor_thresholds=(1, 0.4)))  # 20, 50: not 2×10¹
    ax.set_xlabel("serving cost: one-row latency, median µs (log scale; 1 thread)")
    ax.set_ylabel(_metric_label(metric, rows))
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title, fontsize=10)
    return points


def comparison_figure(comparison: dict[str, Any]) -> Figure:
    """Metric against one-row serving latency (log scale), one panel a task present, each point
    named by a label placed clear of the others (close points are common: Iris models)."""
    dataset, rows = comparison["dataset"], comparison["rows"]
    tasks = [task for task in PRIMARY if any(task_of(row) == task for row in rows)] or [
        "classification"
    ]
    width, height = PANEL_INCHES
    fig, axes = plt.subplots(
        len(tasks), 1, figsize=(width, height * len(tasks)), dpi=COMPARISON_DPI, squeeze=False
    )
    placed = []
    for ax, task in zip(axes[:, 0], tasks, strict=True):
        mine = [row for row in rows if task_of(row) == task]
        title = f"{dataset}: which model is worth its cost"
        if len(tasks) > 1:
            title = f"{dataset}, {'classifiers' if task == 'classification' else 'regressors'}: "
            title += "which model is worth its cost"
        placed.append((ax, PRIMARY[task], _panel(ax, mine, PRIMARY[task], title)))
    fig.tight_layout()  # before placing: labels are placed in the final pixels
    for ax, metric, points in placed:
        place_labels(
            ax,
            [(row["one_row_median_us"], row[metric]) for row in points],
            [point_name(row["name"], dataset) for row in points],
        )
    return fig


def comparison_plot(path: Path, comparison: dict[str, Any]) -> None:
    """comparison_figure, saved as a PNG."""
    fig = comparison_figure(comparison)
    fig.savefig(path, dpi=COMPARISON_DPI)
    plt.close(fig)
