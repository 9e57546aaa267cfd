"""ModelRegistry: reads models/, loads and verifies every version, resolves "latest"."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Self

from app.errors import (
    LabelNotFoundError,
    ModelNotFoundError,
    ModelUnavailableError,
    ServiceError,
    VersionNotFoundError,
)
from app.registry.labels import LABELS_FILE, PRODUCTION, Label, LabelsError, read_labels
from app.registry.memory import settle_after_load
from app.registry.repository import (
    NAME_PATTERN,
    Stamp,
    VersionLoadError,
    read_verified,
    read_version,
    scan,
    stamp,
)
from app.registry.signature import Signature, SignatureError, read_signature
from app.registry.warmup import CallCost, bind_signature, check_and_time, example_columns
from app.runtimes import LOADERS, PICKLE_FORMATS, artifact_format
from app.runtimes.base import Runtime
from app.schemas import ModelMetadata

# How a request reached the version that answers it (payload capture records it).
Route = Literal["pinned", "label", "canary", "latest"]

logger = logging.getLogger(__name__)

__all__ = ["NAME_PATTERN", "CallCost", "LoadedModel", "ModelRegistry", "VersionLoadError"]


@dataclass(frozen=True)
class LoadedModel:
    """A verified version, ready to predict."""

    metadata: ModelMetadata
    runtime: Runtime
    path: Path
    load_seconds: float
    cost: CallCost
    signature: Signature


@dataclass(frozen=True)
class BrokenVersion:
    """A version that failed to load, and the stamp of its folder when it did."""

    name: str
    version: int
    reason: str
    stamp: Stamp


@dataclass
class RefreshReport:
    loaded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def load_version(
    folder: Path,
    name: str,
    version: int,
    root: Path,
    allow_pickle: bool = False,
    allow_symlinks: bool = False,
) -> LoadedModel:
    """Verify the version's files, then deserialise its artifact from the verified bytes."""
    started = time.perf_counter()
    # The artifact's format is known from metadata.json before any other file is read.
    verified = read_version(folder, name, version, root, allow_symlinks)
    file_format = artifact_format(verified.artifact)
    if not file_format:
        raise VersionLoadError(f"no runtime loads the artifact {verified.artifact!r}")
    if file_format in PICKLE_FORMATS and not allow_pickle:
        raise VersionLoadError(
            f"{verified.artifact} is a pickle, which runs code when loaded: it is loaded only "
            "with SERVING_ALLOW_PICKLE=true"
        )
    try:
        runtime = LOADERS[file_format](verified.content)
    except Exception as exc:  # any library error while deserialising: the version is unusable
        # The library's message may hold paths and versions: it goes to the log, not to clients.
        logger.warning("%s/%s: artifact failed to load: %s", name, version, exc)
        raise VersionLoadError(f"artifact failed to load ({type(exc).__name__})") from exc
    metadata = verified.metadata
    try:
        signature = read_signature(metadata.model_dump(mode="json"))
    except SignatureError as exc:
        raise VersionLoadError(f"the signature cannot be served: {exc}") from exc
    try:
        signature = bind_signature(signature, runtime)
        example = example_columns(signature, verified.example)
    except SignatureError as exc:
        raise VersionLoadError(f"the signature does not fit the artifact: {exc}") from exc
    try:
        cost = check_and_time(signature, runtime, example)
    except SignatureError as exc:
        raise VersionLoadError(f"the artifact's outputs do not match the signature: {exc}") from exc
    except Exception as exc:  # a model that cannot score its example cannot be served either
        logger.warning("%s/%s: artifact failed its first prediction: %s", name, version, exc)
        raise VersionLoadError(f"artifact failed to predict ({type(exc).__name__})") from exc
    return LoadedModel(metadata, runtime, folder, time.perf_counter() - started, cost, signature)


def _reason(exc: Exception) -> str:
    """Why a version failed, fit for clients: no paths, no library messages."""
    if isinstance(exc, VersionLoadError):
        return str(exc)
    if isinstance(exc, OSError):
        # A file this process may not read (permissions), reported without the path.
        return f"a file cannot be read ({exc.strerror})"
    return f"unexpected error while loading ({type(exc).__name__})"


class ModelRegistry:
    """Every servable version under a registry folder; refreshed in place, read lock-free."""

    def __init__(
        self, root: Path, allow_pickle: bool = False, allow_symlinks: bool = False
    ) -> None:
        self.root = root
        self.allow_pickle = allow_pickle
        self.allow_symlinks = allow_symlinks
        self._models: dict[str, dict[int, LoadedModel]] = {}
        self._broken: dict[tuple[str, int], BrokenVersion] = {}
        self._invalid: list[str] = []
        self._refresh_lock = threading.Lock()
        # Refresh calls asked for, and the count the last scan (the last one retrying failed
        # versions) had seen when it started: a caller that asked before a scan began is
        # answered by it, so a reload storm costs one scan at a time, not one per call.
        self._ticket_lock = threading.Lock()
        self._asked = 0
        self._answered = 0
        self._answered_retry = 0
        self._last_report = RefreshReport()
        self.scanned = False
        self._labels: dict[str, dict[str, Label]] = {}
        self._label_stamps: dict[str, tuple[int, int, int]] = {}
        self.label_errors: dict[str, str] = {}  # model -> why its labels.json was not read

    @classmethod
    def load(cls, root: Path, allow_pickle: bool = False) -> Self:
        registry = cls(root, allow_pickle)
        registry.refresh()
        return registry

    def refresh(self, retry_failed: bool = False) -> RefreshReport:
        """Load versions that appeared, drop those that vanished; working versions stay.
        A failed version is retried when a file of its folder changed, or with `retry_failed`.
        Never raises: whatever goes wrong is reported, version by version."""
        with self._ticket_lock:
            self._asked += 1
            ticket = self._asked
        with self._refresh_lock:
            if (self._answered_retry if retry_failed else self._answered) >= ticket:
                return self._last_report
            with self._ticket_lock:
                self._answered = self._asked
                if retry_failed:
                    self._answered_retry = self._asked
            try:
                self._last_report = self._scan(retry_failed)
            except Exception:  # a bug, not the disk: keep serving what is loaded, say so
                logger.exception("registry scan failed; the versions loaded stay")
                self._last_report = RefreshReport(invalid=["the scan failed: see the log"])
                self.scanned = True
            return self._last_report

    def _scan(self, retry_failed: bool) -> RefreshReport:
        report = RefreshReport()
        found = scan(self.root, self.allow_symlinks)
        report.invalid = found.invalid
        for line in sorted(set(found.invalid) - set(self._invalid)):
            logger.warning("skipped %s", line)
        on_disk = found.versions
        models = {name: dict(versions) for name, versions in self._models.items()}
        broken = {key: b for key, b in self._broken.items() if key in on_disk}
        for (name, version), folder in sorted(on_disk.items()):
            if version in models.get(name, {}):
                continue
            folder_stamp = stamp(folder)
            known = broken.get((name, version))
            if known is not None and known.stamp == folder_stamp and not retry_failed:
                continue
            try:
                loaded = load_version(
                    folder, name, version, self.root, self.allow_pickle, self.allow_symlinks
                )
            except Exception as exc:  # a scan never raises: the version is reported instead
                reason = _reason(exc)
                if not isinstance(exc, VersionLoadError | OSError):
                    logger.exception("%s/%s: unexpected error while loading", name, version)
                broken[(name, version)] = BrokenVersion(name, version, reason, folder_stamp)
                report.failed.append(f"{name}/{version}: {reason}")
                if known is None or known.reason != reason:
                    logger.warning("skipped %s version %s: %s", name, version, reason)
                continue
            broken.pop((name, version), None)
            models.setdefault(name, {})[version] = loaded
            report.loaded.append(f"{name}/{version}")
            logger.info("loaded %s version %s in %.3f s", name, version, loaded.load_seconds)
        for name, versions in models.items():
            for version in [v for v in versions if (name, v) not in on_disk]:
                del versions[version]
                report.removed.append(f"{name}/{version}")
                logger.info("removed %s version %s: no longer on disk", name, version)
        # Readers see the old state or the new one, never a mix.
        self._models = {name: versions for name, versions in models.items() if versions}
        self._broken = broken
        self._invalid = found.invalid
        self._refresh_labels({name for name, _ in on_disk})
        self.scanned = True
        if report.loaded or report.removed:
            settle_after_load()
        return report

    def _refresh_labels(self, names: set[str]) -> None:
        """Re-read each model's labels.json when it changed; an invalid one keeps the labels
        last read (reported), so a bad edit does not move traffic."""
        labels, stamps, errors = {}, {}, {}
        for name in names:
            path = self.root / name / LABELS_FILE
            try:
                info = path.stat()
            except FileNotFoundError:
                continue  # no labels: the newest version answers
            except OSError as exc:
                info = None
                errors[name] = f"{LABELS_FILE} cannot be read ({exc.strerror})"
            stamp = (info.st_mtime_ns, info.st_size, info.st_ino) if info else (0, 0, 0)
            if info is not None and self._label_stamps.get(name) == stamp:
                labels[name], stamps[name] = self._labels.get(name, {}), stamp
                continue
            try:
                labels[name], stamps[name] = read_labels(self.root / name), stamp
            except (LabelsError, OSError) as exc:
                errors[name] = str(exc)
                labels[name] = self._labels.get(name, {})
        for name, reason in errors.items():
            if self.label_errors.get(name) != reason:
                logger.warning("%s: labels not updated: %s", name, reason)
        self._labels, self._label_stamps, self.label_errors = labels, stamps, errors

    def labels(self, name: str) -> dict[str, Label]:
        return self._labels.get(name, {})

    def resolve(
        self, name: str, version: int | None, label: str | None, key: bytes | None
    ) -> tuple[LoadedModel, LoadedModel | None, Route]:
        """The version that answers a request, the shadow that also scores it (or None), and
        the route it took: a pinned version; a named label (or its canary); else `production`
        when it exists (a label too), else the newest (latest)."""
        if version is not None:
            return self.get(name, version), None, "pinned"
        labels = self._labels.get(name, {})
        chosen = labels.get(label or PRODUCTION)
        if chosen is None:
            if label is not None:
                known = ", ".join(sorted(labels)) or "none"
                self.get(name)  # an unknown model is a 404 of its own
                raise LabelNotFoundError(
                    f"Model '{name}' has no label '{label}' (labels: {known})."
                )
            return self.get(name), None, "latest"
        picked = chosen.pick(name, key)
        try:
            answering = self.get(name, picked)
        except ServiceError as exc:
            raise type(exc)(
                f"Label '{label or PRODUCTION}' of '{name}' points at version {picked}: {exc}"
            ) from exc
        shadow = None
        if chosen.shadow is not None and picked == chosen.version and chosen.shadowed():
            shadow = self._models.get(name, {}).get(chosen.shadow.version)
        return answering, shadow, "canary" if picked != chosen.version else "label"

    def get(self, name: str, version: int | None = None) -> LoadedModel:
        """A ready version; the highest number when `version` is None."""
        versions = self._models.get(name)
        if version is None:
            if versions:
                return versions[max(versions)]
            failed = [b for b in self._broken.values() if b.name == name]
            if failed:
                latest = max(failed, key=lambda b: b.version)
                raise ModelUnavailableError(
                    f"Model '{name}' has no loadable version: version {latest.version} "
                    f"failed to load ({latest.reason})."
                )
            raise ModelNotFoundError(f"No model '{name}' in the registry.")
        if versions and version in versions:
            return versions[version]
        broken = self._broken.get((name, version))
        if broken is not None:
            raise ModelUnavailableError(
                f"Model '{name}' version {version} failed to load: {broken.reason}."
            )
        if not versions and not any(b.name == name for b in self._broken.values()):
            raise ModelNotFoundError(f"No model '{name}' in the registry.")
        raise VersionNotFoundError(f"No version {version} of model '{name}'.")

    def read_listed_file(self, model: LoadedModel, file_name: str) -> bytes:
        """A file of a loaded version that its metadata.json lists, read now without following
        links and checked against the size and SHA-256 recorded there (VersionLoadError, or
        OSError, when it is not that file any more)."""
        digest = model.metadata.files[file_name]
        return read_verified(
            model.path,
            file_name,
            digest.sha256,
            digest.bytes,
            self.root,
            self.allow_symlinks,
        )

    def ready(self) -> dict[str, dict[int, LoadedModel]]:
        """The loaded versions by name (a snapshot: safe to iterate)."""
        return self._models

    def broken(self) -> list[BrokenVersion]:
        return sorted(self._broken.values(), key=lambda b: (b.name, b.version))

    def invalid(self) -> list[str]:
        """What the last scan skipped as not a model or version folder, and why."""
        return self._invalid
