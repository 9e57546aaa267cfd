"""The marker a training run leaves in the registry folder while it runs: `.training.json`,
naming the models still to be trained, so the server can say which are not there yet
(models/README.md). Rewritten atomically as each model lands; removed when the run ends."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

MARKER = ".training.json"


class Progress:
    """The models a run has still to train, mirrored in the registry's marker file."""

    def __init__(self, registry_dir: Path, pending: list[str]) -> None:
        self._path = registry_dir / MARKER
        self._pending = list(pending)
        self._started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self._write()

    def landed(self, name: str) -> None:
        """A model was published: it is no longer pending."""
        if name in self._pending:
            self._pending.remove(name)
        self._write()

    def _write(self) -> None:
        if not self._path.parent.is_dir():
            return  # no registry yet, so no server reading it: it appears with the first model
        body = {"training": self._pending, "pid": os.getpid(), "started_at": self._started_at}
        partial = self._path.with_name(f"{MARKER}.{os.getpid()}.part")
        partial.write_text(json.dumps(body) + "\n")
        partial.replace(self._path)

    def remove(self) -> None:
        self._path.unlink(missing_ok=True)


@contextmanager
def tracked(registry_dir: Path, pending: list[str]) -> Iterator[Progress]:
    """The marker for the length of a run, removed however the run ends."""
    progress = Progress(registry_dir, pending)
    try:
        yield progress
    finally:
        progress.remove()
