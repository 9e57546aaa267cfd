"""A comparison as Markdown: one table a task (classifiers by accuracy and macro F1, regressors by
R², MAE and RMSE), best first, each with what the models cost to train and serve."""

from __future__ import annotations

from typing import Any

from training.comparison_rows import PRIMARY, task_of

COST_HEADER = (
    "artifact MB | memory MB | 1 row median µs | 1 row p99 µs | 256-row batch rows/s | Pareto |"
)
HEADERS = {
    "classification": "| model | version | accuracy | macro F1 | train / test error | training s | "
    + COST_HEADER,
    "regression": "| model | version | R² | MAE | RMSE | " + COST_HEADER,
}
TITLES = {"classification": "Classifiers", "regression": "Regressors"}


def _number(value: Any, pattern: str) -> str:
    return "n/a" if value is None else format(value, pattern)


def _metric_cells(row: dict[str, Any]) -> list[str]:
    if task_of(row) == "regression":
        return [
            _number(row.get("r2"), ".4f"),
            _number(row.get("mae"), ".4g"),
            _number(row.get("rmse"), ".4g"),
        ]
    gap = f"{_number(row['train_error'], '.3f')} / {_number(row['test_error'], '.3f')}"
    return [
        _number(row.get("accuracy"), ".4f"),
        _number(row.get("macro_f1"), ".4f"),
        gap,
        _number(row.get("training_seconds"), ".1f"),
    ]


def _cost_cells(row: dict[str, Any]) -> list[str]:
    memory = row.get("memory_bytes")
    return [
        f"{row['artifact_bytes'] / 1e6:.2f}",
        _number(None if memory is None else memory / 1e6, ".1f"),
        _number(row.get("one_row_median_us"), ",.0f"),
        _number(row.get("one_row_p99_us"), ",.0f"),
        _number(row.get("batch_rows_per_second"), ",.0f"),
        "yes" if row.get("pareto") else "",
    ]


def best_first(rows: list[dict[str, Any]], task: str) -> list[dict[str, Any]]:
    """The rows of `task`, best main metric first, those without one last."""
    metric = PRIMARY[task]
    mine = [row for row in rows if task_of(row) == task]
    return sorted(mine, key=lambda r: (r.get(metric) is None, -(r.get(metric) or 0.0)))


def markdown(comparison: dict[str, Any]) -> str:
    """The comparison as Markdown tables, one a task (a title over each when there are two)."""
    measured = comparison["measured_with"]
    lines = [
        f"Dataset **{comparison['dataset']}**, measured {comparison['created_at']} through "
        + ", ".join(f"{k} {v}" for k, v in measured["runtimes"].items())
        + f" (1 thread; {measured['machine']})."
    ]
    rows = comparison["rows"]
    if any(row.get("timed_on") == "example" for row in rows):
        lines.append(f"Timed on {measured['input']}; metrics as recorded at training or import.")
    tasks = [task for task in HEADERS if any(task_of(row) == task for row in rows)]
    for task in tasks:
        lines.append("")
        if len(tasks) > 1:
            lines += [f"**{TITLES[task]}**", ""]
        header = HEADERS[task]
        lines += [header, "|" + "---|" * (header.count("|") - 1)]
        for row in best_first(rows, task):
            cells = [row["name"], row["version"], *_metric_cells(row), *_cost_cells(row)]
            lines.append("| " + " | ".join(map(str, cells)) + " |")
    unmeasured = [f"- {r['name']}: {r['not_measured']}" for r in rows if "not_measured" in r]
    if unmeasured:
        lines += ["", "Not timed:", *unmeasured]
    return "\n".join(lines) + "\n"
