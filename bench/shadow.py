"""A registry for the shadow scenario: iris-logistic-regression as version 1 and, as version
2, a copy of it, with `production` on version 1 shadowed by version 2 for every request."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

MODEL = "iris-logistic-regression"
LABELS = {"labels": {"production": {"version": 1, "shadow": {"version": 2, "fraction": 1.0}}}}


def shadow_registry(models_dir: Path, folder: Path) -> Path:
    """Build it in `folder` from the trained registry; return its root."""
    source = max(
        (p for p in (models_dir / MODEL).iterdir() if p.name.isdigit()), key=lambda p: int(p.name)
    )
    root = folder / "models"
    for version in (1, 2):
        target = root / MODEL / str(version)
        shutil.copytree(source, target)
        metadata = json.loads((target / "metadata.json").read_text())
        (target / "metadata.json").write_text(json.dumps({**metadata, "version": version}))
    (root / MODEL / "labels.json").write_text(json.dumps(LABELS))
    return root
