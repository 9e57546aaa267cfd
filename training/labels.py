"""Version labels of a model (production, staging, ...): models/<name>/labels.json, with the
history of every change, written atomically under a lock. Part of the registry contract: the
server re-reads the file on every scan (app/registry/labels.py reads it; the two never import each
other)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LABELS_FILE = "labels.json"
LOCK_FILE = ".labels.lock"
# labels.json keeps the newest MAX_HISTORY changes; older ones are appended to HISTORY_FILE
# beside it, one JSON object a line, oldest first (the server's writer does the same): the file
# the server reads on every scan stays small however long labels keep changing.
HISTORY_FILE = "labels-history.jsonl"
MAX_HISTORY = 100
LABEL_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
PRODUCTION = "production"


class LabelError(ValueError):
    """A label change that cannot be made; the message says why."""


def check_target(target: Any, versions: list[int]) -> dict[str, Any]:
    """A label's target, {"version": N} with an optional canary or shadow, checked against the
    versions on disk; returned in its canonical form."""
    if type(target) is not dict or set(target) - {"version", "canary", "shadow"}:
        raise LabelError('a label is {"version": N} with an optional "canary" or "shadow"')

    def version(value: Any, where: str) -> int:
        if type(value) is not int or value not in versions:
            raise LabelError(f"{where}: no version {value!r} (versions: {versions})")
        return value

    result: dict[str, Any] = {"version": version(target.get("version"), "version")}
    for side, share in (("canary", "weight"), ("shadow", "fraction")):
        if side not in target:
            continue
        part = target[side]
        if type(part) is not dict or set(part) != {"version", share}:
            raise LabelError(f'{side} is {{"version": N, "{share}": x}}')
        amount = part[share]
        if type(amount) not in (int, float) or not 0 < amount <= 1:
            raise LabelError(f"{side}.{share} must be above 0 and at most 1")
        other = version(part["version"], f"{side}.version")
        if other == result["version"]:
            raise LabelError(f"{side}.version must differ from the label's version")
        result[side] = {"version": other, share: float(amount)}
    return result


def read(model_root: Path) -> dict[str, Any]:
    """The labels document of a model: {"labels": {...}, "history": [...]}, empty when none."""
    path = model_root / LABELS_FILE
    if not path.is_file():
        return {"labels": {}, "history": []}
    document = json.loads(path.read_text())
    if type(document) is not dict or type(document.get("labels")) is not dict:
        raise LabelError(f"{path} is not a labels document")
    document.setdefault("history", [])
    return document


@contextlib.contextmanager
def _locked(model_root: Path) -> Iterator[None]:
    """One writer at a time (training runs, admin calls): read, change, write, then unlock."""
    model_root.mkdir(parents=True, exist_ok=True)
    with (model_root / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _archive(model_root: Path, document: dict[str, Any]) -> None:
    """Move the entries older than the newest MAX_HISTORY into HISTORY_FILE, synced before
    labels.json is replaced without them: a crash in between repeats entries, loses none."""
    keep = len(document["history"]) - MAX_HISTORY
    if keep <= 0:
        return
    moved = document["history"][:keep]
    del document["history"][:keep]
    with (model_root / HISTORY_FILE).open("a") as archive:
        for entry in moved:
            archive.write(json.dumps(entry) + "\n")
        archive.flush()
        os.fsync(archive.fileno())


def history(model_root: Path) -> list[dict[str, Any]]:
    """Every change of the model's labels, oldest first: those moved aside, then labels.json's."""
    moved = []
    with contextlib.suppress(FileNotFoundError):
        lines = (model_root / HISTORY_FILE).read_text().splitlines()
        moved = [json.loads(line) for line in lines if line.strip()]
    recent: list[dict[str, Any]] = read(model_root)["history"]
    return moved + recent


def _write(model_root: Path, document: dict[str, Any]) -> None:
    """Replace labels.json atomically: a reader sees the old file or the new one."""
    _archive(model_root, document)
    handle, temporary = tempfile.mkstemp(prefix=".labels-", dir=model_root)
    try:
        with os.fdopen(handle, "w") as out:
            out.write(json.dumps(document, indent=2) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, model_root / LABELS_FILE)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def versions_on_disk(model_root: Path) -> list[int]:
    if not model_root.is_dir():
        return []
    return sorted(
        int(p.name)
        for p in model_root.iterdir()
        if p.is_dir() and p.name.isascii() and p.name.isdigit() and not p.name.startswith("0")
    )


def change(model_root: Path, label: str, target: Any | None, by: str) -> dict[str, Any] | None:
    """Point `label` at `target` (None removes it), with a history entry; returns the label's
    previous target."""
    if LABEL_PATTERN.fullmatch(label) is None:
        raise LabelError(f"label {label!r} must match {LABEL_PATTERN.pattern}")
    with _locked(model_root):
        document = read(model_root)
        before = document["labels"].get(label)
        if target is None:
            if before is None:
                raise LabelError(f"no label {label!r}")
            del document["labels"][label]
        else:
            target = check_target(target, versions_on_disk(model_root))
            document["labels"][label] = target
        document["history"].append(
            {
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "label": label,
                "from": before,
                "to": target,
                "by": by,
            }
        )
        _write(model_root, document)
        return before  # type: ignore[no-any-return]


def previous(model_root: Path, label: str) -> dict[str, Any]:
    """What `label` pointed at before its last change: where a rollback takes it."""
    for entry in reversed(history(model_root)):
        if entry.get("label") == label:
            if entry.get("from") is None:
                break
            return entry["from"]  # type: ignore[no-any-return]
    raise LabelError(f"label {label!r} has no earlier target to roll back to")
