"""Version labels, as the registry folder holds them (models/<name>/labels.json, written by
`python -m training promote` or the admin API), and how a label picks the version that answers.

A label points at one version, may send a share of its requests to a canary version, and may
have a shadow version score a fraction of its requests off the request path.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import random
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LABELS_FILE = "labels.json"
LOCK_FILE = ".labels.lock"
# labels.json keeps the newest MAX_HISTORY changes; older ones are appended to HISTORY_FILE
# beside it, one JSON object a line, oldest first (training/labels.py writes the same way):
# the file every scan reads stays small however long labels keep changing.
HISTORY_FILE = "labels-history.jsonl"
MAX_HISTORY = 100
LABEL_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
PRODUCTION = "production"


class LabelsError(ValueError):
    """A labels document or a label change that is not valid; the message says why."""


@dataclass(frozen=True)
class Share:
    """Another version and the share of the label's requests it gets (canary) or scores
    (shadow)."""

    version: int
    share: float


@dataclass(frozen=True)
class Label:
    version: int
    canary: Share | None = None
    shadow: Share | None = None

    def pick(self, name: str, key: bytes | None) -> int:
        """The version that answers: the canary for its share of requests, else the label's.
        A request key always picks the same side (a hash), so one user sees one model."""
        if self.canary is None:
            return self.version
        if key is None:
            draw = random.random()
        else:
            digest = hashlib.blake2b(name.encode() + b"\0" + key, digest_size=8).digest()
            draw = int.from_bytes(digest, "big") / 2**64
        return self.canary.version if draw < self.canary.share else self.version

    def shadowed(self) -> bool:
        """Whether this request is also scored by the shadow version."""
        return self.shadow is not None and random.random() < self.shadow.share

    def document(self) -> dict[str, Any]:
        """The label as labels.json writes it."""
        result: dict[str, Any] = {"version": self.version}
        if self.canary is not None:
            result["canary"] = {"version": self.canary.version, "weight": self.canary.share}
        if self.shadow is not None:
            result["shadow"] = {"version": self.shadow.version, "fraction": self.shadow.share}
        return result


def _version(value: Any, where: str) -> int:
    if type(value) is not int or value < 1:
        raise LabelsError(f"{where} must be a version number")
    return value


def parse_label(value: Any, where: str = "the label") -> Label:
    """A label's JSON target -> Label, or LabelsError saying what is wrong."""
    if type(value) is not dict or set(value) - {"version", "canary", "shadow"}:
        raise LabelsError(f'{where} is {{"version": N}} with an optional "canary" or "shadow"')
    version = _version(value.get("version"), f"{where}.version")
    sides: dict[str, Share | None] = {"canary": None, "shadow": None}
    for side, amount in (("canary", "weight"), ("shadow", "fraction")):
        part = value.get(side)
        if part is None:
            continue
        if type(part) is not dict or set(part) != {"version", amount}:
            raise LabelsError(f'{where}.{side} is {{"version": N, "{amount}": x}}')
        share = part[amount]
        if type(share) not in (int, float) or not 0 < share <= 1:
            raise LabelsError(f"{where}.{side}.{amount} must be above 0 and at most 1")
        other = _version(part["version"], f"{where}.{side}.version")
        if other == version:
            raise LabelsError(f"{where}.{side}.version must differ from the label's version")
        sides[side] = Share(other, float(share))
    return Label(version, sides["canary"], sides["shadow"])


def read_labels(model_dir: Path) -> dict[str, Label]:
    """The labels of a model folder ({} without labels.json); LabelsError when invalid."""
    try:
        text = (model_dir / LABELS_FILE).read_text()
    except FileNotFoundError:
        return {}
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise LabelsError(f"{LABELS_FILE} is not JSON ({exc})") from exc
    if type(document) is not dict or type(document.get("labels")) is not dict:
        raise LabelsError(f'{LABELS_FILE} must hold {{"labels": {{...}}}}')
    labels = {}
    for name, value in document["labels"].items():
        if LABEL_PATTERN.fullmatch(name) is None:
            raise LabelsError(f"label {name[:40]!r} must match {LABEL_PATTERN.pattern}")
        labels[name] = parse_label(value, f"labels.{name}")
    return labels


@contextlib.contextmanager
def _locked(model_dir: Path) -> Iterator[None]:
    """The lock `python -m training promote` takes too: one writer at a time."""
    with (model_dir / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_label(model_dir: Path, name: str, label: Label | None, by: str) -> None:
    """Set (or, with None, remove) one label, with its history entry; labels.json is replaced
    atomically, under the writers' lock."""
    with _locked(model_dir):
        path = model_dir / LABELS_FILE
        document = json.loads(path.read_text()) if path.is_file() else {"labels": {}}
        before = document["labels"].pop(name, None)
        if label is not None:
            document["labels"][name] = label.document()
        document.setdefault("history", []).append(
            {
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "label": name,
                "from": before,
                "to": None if label is None else label.document(),
                "by": by,
            }
        )
        _move_old_history(model_dir, document)
        handle, temporary = tempfile.mkstemp(prefix=".labels-", dir=model_dir)
        try:
            with os.fdopen(handle, "w") as out:
                out.write(json.dumps(document, indent=2) + "\n")
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise


def _move_old_history(model_dir: Path, document: dict[str, Any]) -> None:
    """Append the history entries beyond the newest MAX_HISTORY to HISTORY_FILE (synced before
    labels.json is replaced without them: a crash between repeats an entry, never loses one)."""
    history = document["history"]
    if len(history) <= MAX_HISTORY:
        return
    old, document["history"] = history[:-MAX_HISTORY], history[-MAX_HISTORY:]
    with (model_dir / HISTORY_FILE).open("a") as out:
        out.write("".join(json.dumps(entry) + "\n" for entry in old))
        out.flush()
        os.fsync(out.fileno())
