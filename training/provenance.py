"""How a version was made: code revision, data checksums, seeds and the command line."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from training.registry_writer import file_digest

REPOSITORY = Path(__file__).resolve().parent.parent


def git_revision() -> dict[str, Any]:
    """The commit checked out and whether the tree differs from it (None outside git)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPOSITORY, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        # Untracked files count too (a new module changes what runs); ignored ones do not.
        dirty = bool(git("status", "--porcelain"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def dataset_digests(files: list[Path]) -> dict[str, str]:
    """SHA-256 of each file the dataset was read from, by file name."""
    return {path.name: file_digest(path)["sha256"] for path in files}


def command_line() -> str:
    """The command as typed: python -m training and its arguments."""
    program = "python -m training" if sys.argv[0].endswith("__main__.py") else sys.argv[0]
    return " ".join([program, *map(shlex.quote, sys.argv[1:])])
