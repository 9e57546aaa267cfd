"""The gate between publishing a version and promoting it: a new version becomes `production`
only when it was fully trained, meets its floor, and is not worse than the version production
points at on the same test set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from training import labels

DEFAULT_TOLERANCE = 0.005
AUTOMATIC = "python -m training (automatic promotion)"


def refusal(
    model_root: Path, metadata: dict[str, Any], quick: bool, tolerance: float
) -> str | None:
    """Why the version described by `metadata` must not be promoted, or None."""
    if quick:
        return "trained with --quick (tiny data, one epoch)"
    accuracy, floor = metadata["metrics"]["accuracy"], metadata["accuracy_floor"]
    if accuracy < floor:
        return f"accuracy {accuracy:.4f} is below its floor {floor}"
    current = labels.read(model_root)["labels"].get(labels.PRODUCTION)
    if current is None:
        return None
    path = model_root / str(current["version"]) / "metadata.json"
    try:
        production = json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # production points at a version that is gone: nothing to compare with
    if production.get("split") != metadata["split"] or production.get("quick"):
        return None  # another test set: the floor is the only bar
    best = production["metrics"]["accuracy"]
    if accuracy < best - tolerance:
        return (
            f"accuracy {accuracy:.4f} is below production's (version {current['version']}: "
            f"{best:.4f}) by more than {tolerance}"
        )
    return None


def promote(model_root: Path, version: int, by: str, label: str = labels.PRODUCTION) -> None:
    """Point `label` at `version` alone (any canary or shadow on it ends)."""
    labels.change(model_root, label, {"version": version}, by)


def imported_refusal(model_root: Path, metadata: dict[str, Any], tolerance: float) -> str | None:
    """Why an imported version must not be promoted, or None: it is compared with production on
    the same eval file (its SHA-256), by accuracy or R²."""
    current = labels.read(model_root)["labels"].get(labels.PRODUCTION)
    if current is None:
        return None
    path = model_root / str(current["version"]) / "metadata.json"
    try:
        production = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    ours = (metadata.get("evaluation_data") or {}).get("sha256")
    theirs = (production.get("evaluation_data") or {}).get("sha256")
    if ours is None:
        return "no --eval file to compare with production"
    if ours != theirs:
        return f"production (version {current['version']}) was not evaluated on this eval file"
    key = "accuracy" if "accuracy" in metadata["metrics"] else "r2"
    new, best = metadata["metrics"][key], production["metrics"][key]
    if new < best - tolerance:
        return (
            f"{key} {new:.4f} is below production's (version {current['version']}: {best:.4f}) "
            f"by more than {tolerance}"
        )
    return None


def decide_imported(
    model_root: Path, version: int, metadata: dict[str, Any], automatic: bool
) -> str:
    """Promote an imported version when the gate allows it; the outcome, said in words."""
    if not automatic:
        return "not promoted (--no-promote)"
    reason = imported_refusal(model_root, metadata, DEFAULT_TOLERANCE)
    if reason is not None:
        return f"NOT PROMOTED: {reason}"
    promote(model_root, version, "python -m training import (automatic promotion)")
    return "promoted to production"
