"""A model card for one version, generated from its metadata.json: a document, and Markdown."""

from __future__ import annotations

from typing import Any

from app.registry.repository import artifact_of
from app.schemas import ModelMetadata

OVERFIT_GAP = 0.02  # held-out error this much above training error is called out


def _final_errors(curve: dict[str, Any]) -> tuple[float, float] | None:
    try:
        if curve["method"] == "epochs":
            return float(curve["train_error"][-1]), float(curve["test_error"][-1])
        return float(curve["train_error_mean"][-1]), float(curve["test_error_mean"][-1])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def _limitations(metadata: ModelMetadata, extra: dict[str, Any]) -> list[str]:
    found = []
    spec = metadata.input
    if spec.kind == "image":
        note = (spec.model_extra or {}).get("note", "MNIST convention")
        found.append(
            f"Expects a {'x'.join(map(str, spec.shape or []))} greyscale digit as "
            f"{spec.n_features} pixels, 0-255 with bright ink ({note}). Pictures sent to the "
            "image endpoints are converted to this; digits unlike MNIST's (thin strokes, "
            "off-centre, several digits, photos) score worse than the test set says."
        )
    else:
        names = ", ".join(f.name for f in spec.features or [])
        found.append(f"Expects {spec.n_features} numbers in this order: {names}.")
    found.append(
        f"Knows only the classes {', '.join(metadata.class_labels)}: every input gets one of them."
    )
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


def build_card(metadata: ModelMetadata, comparison_row: dict[str, Any] | None) -> dict[str, Any]:
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
            "input": metadata.input.model_dump(exclude_none=True),
            "class_labels": metadata.class_labels,
        },
        "metrics": {
            key: metrics[key]
            for key in ("accuracy", "macro_f1", "cv_accuracy", "per_class", "confusion_matrix")
            if key in metrics
        },
        "accuracy_floor": extra.get("accuracy_floor"),
        "training_and_testing_error": metrics.get("learning_curve"),
        "cost": {
            "training_seconds": metrics.get("training_seconds"),
            "artifact_bytes": artifact.bytes if artifact else None,
            "serving": comparison_row,
        },
        "limitations": _limitations(metadata, extra),
        "provenance": {
            **(extra.get("provenance") or {}),
            "library_versions": metadata.library_versions,
        },
    }
