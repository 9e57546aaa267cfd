"""The Markdown rendering of a model card (app/registry/model_card.py builds the document)."""

from __future__ import annotations

import json
from typing import Any


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def _curve(curve: dict[str, Any] | None, imported: bool = False) -> list[str]:
    if not isinstance(curve, dict):
        if imported:
            return [
                "No training run: this version was imported, fitted elsewhere, so there is no "
                "learning curve to show; its metrics come from the eval file given at import."
            ]
        return ["No training and testing error recorded (trained before they were)."]
    if curve.get("method") == "epochs":
        epochs = zip(curve["epochs"], curve["train_error"], curve["test_error"], strict=False)
        note = (
            "Per epoch: training error as Keras reports it while fitting (averaged over the "
            "epoch, dropout on), validation error on the held-out validation images."
        )
        table = _table(["epoch", "training error", "validation error"], [list(r) for r in epochs])
        return [note, "", *table]
    subsample = f", on a subsample: {curve['subsample']}" if curve.get("subsample") else ""
    header = f"Learning curve, {curve.get('folds')} folds{subsample}."
    rows = zip(
        curve["train_sizes"],
        curve["train_error_mean"],
        curve["train_error_std"],
        curve["test_error_mean"],
        curve["test_error_std"],
        strict=False,
    )
    table = _table(
        ["training rows", "training error", "± (folds)", "held-out error", "± (folds)"],
        [list(r) for r in rows],
    )
    return [header, "", *table]


def render_markdown(card: dict[str, Any]) -> str:
    """The card as a Markdown page."""
    model, data, metrics, cost = card["model"], card["data"], card["metrics"], card["cost"]
    regression = data.get("task") == "regression"
    if regression:
        targets = ", ".join(data.get("targets") or []) or "a value"
        what = f"Predicts {targets} from {model['dataset']} inputs"
    else:
        what = f"Classifies {model['dataset']} inputs"
    lines = [
        f"# Model card: {model['name']} version {model['version']}",
        "",
        f"{what}: algorithm {model['algorithm']}, framework "
        f"{model['framework']}, created {model['created_at']}; the server loads "
        f"`{model['artifact']}`.",
        "",
        "## Data",
        f"- Split: {data['split']}; {data['test_samples']} test rows."
        if data.get("split") is not None or not card.get("imported")
        else f"- Evaluated on {metrics.get('eval_rows', 'no')} rows of the eval file.",
        f"- Input: `{json.dumps(data['input'])}`",
    ]
    if data.get("class_labels"):
        lines.append(f"- Classes: {', '.join(data['class_labels'])}")
    lines += ["", "## Metrics (test set)" if not card.get("imported") else "## Metrics (eval file)"]
    if regression:
        lines.append(
            f"- MAE {metrics.get('mae')}, RMSE {metrics.get('rmse')}, R² {metrics.get('r2')}."
        )
    else:
        lines.append(
            f"- Accuracy {metrics.get('accuracy')}, macro F1 {metrics.get('macro_f1')}"
            + (
                f"; floor {card['accuracy_floor']}"
                if card.get("accuracy_floor") is not None
                else ""
            )
            + "."
        )
    if "cv_accuracy" in metrics:
        cv = metrics["cv_accuracy"]
        lines.append(
            f"- {cv['folds']}-fold CV accuracy on the training split: {cv['mean']} ± {cv['std']}."
        )
    per_class = metrics.get("per_class", {})
    if per_class or not card.get("imported"):
        lines += [
            "",
            *_table(
                ["class", "precision", "recall", "support"],
                [
                    [label, v["precision"], v["recall"], v["support"]]
                    for label, v in per_class.items()
                ],
            ),
        ]
    if "confusion_matrix" in metrics:
        labels = data["class_labels"]
        lines += ["", "Confusion matrix (rows: true, columns: predicted):", ""]
        lines += _table(
            ["", *labels],
            [
                [label, *row]
                for label, row in zip(labels, metrics["confusion_matrix"], strict=False)
            ],
        )
    curve = _curve(card["training_and_testing_error"], bool(card.get("imported")))
    lines += ["", "## Training and testing error", *curve]
    lines += [
        "",
        "## Cost",
        f"- Training: {cost['training_seconds']} s; artifact {cost['artifact_bytes']} bytes."
        if cost.get("training_seconds") is not None or not card.get("imported")
        else f"- Training: none here (imported); artifact {cost['artifact_bytes']} bytes.",
    ]
    serving = cost.get("serving")
    if serving:
        get = serving.get
        lines.append(
            f"- Serving (from the {model['dataset']} comparison): one row "
            f"{get('one_row_median_us')} µs median, {get('one_row_p99_us')} µs p99; "
            f"{get('batch_rows_per_second')} rows/s in 256-row batches; "
            f"{get('memory_bytes')} bytes of memory."
        )
    else:
        lines.append("- Serving: not in a comparison (python -m training compare).")
    lines += ["", "## Limitations", *[f"- {item}" for item in card["limitations"]]]
    lines += ["", "## Provenance", "```json", json.dumps(card["provenance"], indent=2), "```", ""]
    return "\n".join(lines)
