"""A model card for one version, generated from its metadata.json: a document, and Markdown."""

from __future__ import annotations

from typing import Any

from app.registry.repository import artifact_of
from app.registry.signature import Signature
from app.schemas import ModelMetadata

OVERFIT_GAP = 0.02  # held-out error this much above training error is called out


def _final_errors(curve: dict[str, Any]) -> tuple[float, float] | None:
    try:
        if curve["method"] == "epochs":
            return float(curve["train_error"][-1]), float(curve["test_error"][-1])
        return float(curve["train_error_mean"][-1]), float(curve["test_error_mean"][-1])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def _inputs(signature: Signature) -> str:
    """What a row is, in a sentence."""
    if signature.is_image:
        column = signature.inputs[0]
        extra = column.model_extra or {}
        shape = column.shape or [28, 28]
        pixels = 1
        for size in shape:
            pixels *= size
        return (
            f"Expects a {'x'.join(map(str, shape))} greyscale digit as {pixels} pixels, 0-255 "
            f"with bright ink ({extra.get('note', 'MNIST convention')}). Pictures sent to the "
            "image endpoints are converted to this; digits unlike MNIST's (thin strokes, "
            "off-centre, several digits, photos) score worse than the test set says."
        )
    names = ", ".join(column.name for column in signature.inputs)
    if signature.all_numbers:
        return f"Expects {len(signature.inputs)} numbers in this order: {names}."
    described = ", ".join(
        f"{c.name} ({c.type}{', may be missing' if c.optional else ''})" for c in signature.inputs
    )
    return f"Expects {len(signature.inputs)} columns: {described}."


def _task(signature: Signature) -> str:
    if signature.classes is not None:
        labels = ", ".join(signature.classes.labels)
        return f"Knows only the classes {labels}: every input gets one of them."
    targets = ", ".join(signature.targets or []) or "one value"
    return f"Predicts {targets} for each row: a value, not a class; nothing bounds it."


def _limitations(metadata: ModelMetadata, signature: Signature, extra: dict[str, Any]) -> list[str]:
    found = [_inputs(signature), _task(signature)]
    if extra.get("quick"):
        found.append("Trained with --quick (tiny data, one epoch): for tests, not for serving.")
    per_class = metadata.metrics.get("per_class")
    if isinstance(per_class, dict) and per_class:
        weakest = min(per_class, key=lambda label: per_class[label].get("recall", 1.0))
        found.append(f"Weakest class: '{weakest}' (recall {per_class[weakest].get('recall')}).")
    curve = metadata.metrics.get("learning_curve")
    errors = _final_errors(curve) if isinstance(curve, dict) else None
    if errors and errors[1] - errors[0] > OVERFIT_GAP:
        found.append(
            f"Fits its training data better than unseen data (error {errors[0]:.3f} against "
            f"{errors[1]:.3f}): it overfits; more data would help more than more capacity."
        )
    for key in ("onnx_export", "tflite_export"):
        export = metadata.metrics.get(key)
        if isinstance(export, dict) and "label_agreement" in export:
            found.append(
                f"Served from {artifact_of(metadata)}: agrees with the trained model on "
                f"{export['label_agreement']:.2%} of the test labels (largest probability "
                f"difference {export.get('max_abs_probability_diff', 0):.2g})."
            )
    return found


# The held-out metrics a card shows: trained classifiers, and imported versions' --eval figures.
METRICS = (
    "accuracy",
    "macro_f1",
    "cv_accuracy",
    "per_class",
    "confusion_matrix",
    "mae",
    "rmse",
    "r2",
    "eval_rows",
)


def build_card(
    metadata: ModelMetadata, signature: Signature, comparison_row: dict[str, Any] | None
) -> dict[str, Any]:
    """The card's sections as one JSON document."""
    extra = metadata.model_extra or {}
    metrics = metadata.metrics
    served = artifact_of(metadata)
    artifact = metadata.files[served]
    return {
        "model": {
            "name": metadata.name,
            "version": metadata.version,
            "dataset": metadata.dataset,
            "algorithm": metadata.algorithm,
            "framework": metadata.framework,
            "created_at": metadata.created_at.isoformat(),
            "artifact": served,
            "params": extra.get("params", {}),
        },
        "data": {
            "split": extra.get("split"),
            "test_samples": metrics.get("test_samples"),
            "input": metadata.input.model_dump(exclude_none=True)
            if metadata.input is not None
            else [c.model_dump(exclude_none=True) for c in signature.inputs],
            "task": signature.task,
            "class_labels": signature.classes.labels if signature.classes else None,
            "targets": signature.targets,
        },
        # Imported versions (python -m training import) were fitted elsewhere: no training
        # run here, so no learning curve; their metrics come from the --eval file.
        "imported": "verification" in extra or extra.get("split") is None,
        "metrics": {key: metrics[key] for key in METRICS if key in metrics},
        "accuracy_floor": extra.get("accuracy_floor"),
        "training_and_testing_error": metrics.get("learning_curve"),
        "cost": {
            "training_seconds": metrics.get("training_seconds"),
            "artifact_bytes": artifact.bytes if artifact else None,
            "serving": comparison_row,
        },
        "limitations": _limitations(metadata, signature, extra),
        "provenance": {
            **(extra.get("provenance") or {}),
            "library_versions": metadata.library_versions,
        },
    }
