"""Which models a training run is still training into the registry folder: the marker
`.training.json` it leaves there while it runs (models/README.md), read as untrusted input."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from app.registry.repository import NAME_PATTERN

logger = logging.getLogger(__name__)

MARKER = ".training.json"
MAX_MARKER_BYTES = 64 * 1024


def pending_training(root: Path) -> list[str]:
    """The model names the marker lists; none when there is no marker or it is unreadable."""
    path = root / MARKER
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_MARKER_BYTES:
            return []
        body = json.loads(path.read_text())
    except (OSError, ValueError):
        return []  # being replaced, or removed, as the scan read it
    names = body.get("training") if isinstance(body, dict) else None
    if not isinstance(names, list):
        return []
    return [name for name in names if isinstance(name, str) and NAME_PATTERN.match(name)]
