"""Write one complete model version into the registry folder, atomically."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

METADATA_FILE = "metadata.json"
STAGING_PREFIX = ".staging-"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# What the server takes as a version: ASCII digits, no leading zero ('²' and '01' are not).
VERSION_PATTERN = re.compile(r"[1-9][0-9]*", re.ASCII)


def file_digest(path: Path) -> dict[str, Any]:
    """SHA-256 and size in bytes of one file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return {"sha256": digest.hexdigest(), "bytes": path.stat().st_size}


def existing_versions(model_root: Path) -> list[int]:
    """The integer versions already published under models/<name>/."""
    if not model_root.is_dir():
        return []
    return sorted(int(p.name) for p in model_root.iterdir() if VERSION_PATTERN.fullmatch(p.name))


def save_model(
    registry_dir: Path,
    name: str,
    write_files: Callable[[Path], None],
    metadata: dict[str, Any],
) -> Path:
    """Publish a new version of `name` and return its folder.

    `write_files` fills a staging folder with the artifacts and plots; this function adds the
    checksums and `metadata.json`, then renames the folder to the next free version number, so a
    reader sees either the whole version or nothing.
    """
    if not NAME_PATTERN.match(name):
        raise ValueError(f"invalid model name {name!r}")
    model_root = registry_dir / name
    model_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=model_root))
    # mkdtemp makes the folder private (0700); a published version must be readable by a server
    # that runs as another user, such as the container's non-root user.
    staging.chmod(0o755)
    try:
        write_files(staging)
        files = {
            p.name: file_digest(p) for p in sorted(staging.iterdir()) if p.name != METADATA_FILE
        }
        while True:
            version = max(existing_versions(model_root), default=0) + 1
            record = {**metadata, "name": name, "version": version, "files": files}
            (staging / METADATA_FILE).write_text(json.dumps(record, indent=2) + "\n")
            target = model_root / str(version)
            try:
                # Fails if another run published this number first: try the next one.
                staging.rename(target)
            except OSError:
                if target.exists():
                    continue
                raise
            return target
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
