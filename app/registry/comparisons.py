"""The comparisons `python -m training compare` writes beside the models, read safely.

Only the three files the comparison names are ever opened: comparison.json (bounded in size,
its shape checked) and the plot, whose bytes must match the SHA-256 comparison.json records."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from app.errors import ComparisonNotFoundError, ComparisonUnavailableError
from app.registry.repository import COMPARISONS_DIR, VersionLoadError, read_file

DOCUMENT = "comparison.json"
PLOT = "comparison.png"
MAX_DOCUMENT_BYTES = 1024 * 1024
MAX_PLOT_BYTES = 8 * 1024 * 1024


def _folder(root: Path, dataset: str, allow_symlinks: bool) -> Path:
    folder = root / COMPARISONS_DIR / dataset
    links = [folder.parent, folder] if not allow_symlinks else []
    if any(path.is_symlink() for path in links) or not folder.is_dir():
        raise ComparisonNotFoundError(
            f"No comparison for dataset '{dataset}': run python -m training compare "
            f"--dataset {dataset}."
        )
    return folder


def _read(folder: Path, name: str, root: Path, allow_symlinks: bool, limit: int) -> bytes:
    try:
        content = read_file(folder, name, root, allow_symlinks, limit)
    except VersionLoadError as exc:
        raise ComparisonUnavailableError(f"The comparison cannot be read: {exc}.") from exc
    except OSError as exc:
        raise ComparisonUnavailableError(f"The comparison cannot be read: {exc.strerror}.") from exc
    if len(content) > limit:
        raise ComparisonUnavailableError(f"{name} is over {limit} bytes.")
    return content


def has_comparison(root: Path, dataset: str, allow_symlinks: bool = False) -> bool:
    """Whether a comparison was written for `dataset` (its files are checked when read)."""
    try:
        document = _folder(root, dataset, allow_symlinks) / DOCUMENT
    except ComparisonNotFoundError:
        return False
    return document.is_file() and (allow_symlinks or not document.is_symlink())


def read_comparison(root: Path, dataset: str, allow_symlinks: bool = False) -> dict[str, Any]:
    """The comparison document of `dataset`."""
    folder = _folder(root, dataset, allow_symlinks)
    content = _read(folder, DOCUMENT, root, allow_symlinks, MAX_DOCUMENT_BYTES)
    try:
        document = json.loads(content)
    except ValueError as exc:
        raise ComparisonUnavailableError(f"{DOCUMENT} is not valid JSON.") from exc
    if type(document) is not dict or type(document.get("rows")) is not list:
        raise ComparisonUnavailableError(f"{DOCUMENT} is not a comparison (no rows).")
    return document


def read_plot(root: Path, dataset: str, allow_symlinks: bool = False) -> bytes:
    """The comparison's PNG, only if its bytes are those comparison.json records."""
    document = read_comparison(root, dataset, allow_symlinks)
    recorded = document.get("files", {}).get(PLOT) if type(document.get("files")) is dict else None
    if type(recorded) is not dict or type(recorded.get("sha256")) is not str:
        raise ComparisonUnavailableError(f"{DOCUMENT} records no checksum for {PLOT}.")
    folder = _folder(root, dataset, allow_symlinks)
    content = _read(folder, PLOT, root, allow_symlinks, MAX_PLOT_BYTES)
    if hashlib.sha256(content).hexdigest() != recorded["sha256"]:
        raise ComparisonUnavailableError(
            f"{PLOT} does not match the SHA-256 {DOCUMENT} records (rewritten since?)."
        )
    return content


def row_of(
    root: Path, dataset: str, name: str, version: int, allow_symlinks: bool = False
) -> dict[str, Any] | None:
    """A version's row in its dataset's comparison, when it was compared."""
    try:
        rows = read_comparison(root, dataset, allow_symlinks)["rows"]
    except (ComparisonNotFoundError, ComparisonUnavailableError):
        return None
    for row in rows:
        if type(row) is dict and row.get("name") == name and row.get("version") == version:
            return row
    return None
