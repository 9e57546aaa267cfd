"""ModelRegistry: reads models/, loads and verifies every version, resolves "latest"."""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import numpy as np
from pydantic import ValidationError

from app.errors import (
    LabelNotFoundError,
    ModelNotFoundError,
    ModelUnavailableError,
    ServiceError,
    VersionNotFoundError,
)
from app.labels import LABELS_FILE, PRODUCTION, Label, LabelsError, read_labels
from app.memory import settle_after_load
from app.runtimes import LOADERS
from app.runtimes.base import Runtime
from app.schemas import ModelMetadata

logger = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
METADATA_FILE = "metadata.json"


class VersionLoadError(Exception):
    """A version on disk that cannot be served; the message says why."""


@dataclass(frozen=True)
class CallCost:
    """What one call of a runtime costs, measured once at load: a fixed part and a per-row
    part. Models differ by a thousandfold (a linear model ~10 us a row, kNN over MNIST ~16 ms),
    and the data plane decides from this where a batch runs and how it is split."""

    fixed_seconds: float
    row_seconds: float

    def estimate(self, rows: int) -> float:
        return self.fixed_seconds + rows * self.row_seconds


@dataclass(frozen=True)
class LoadedModel:
    """A verified version, ready to predict."""

    metadata: ModelMetadata
    runtime: Runtime
    path: Path
    load_seconds: float
    cost: CallCost


CALIBRATION_ROWS = 32


def _best_of(runtime: Runtime, batch: np.ndarray, times: int) -> float:
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        runtime.predict_proba(batch)
        best = min(best, time.perf_counter() - started)
    return best


def measure_cost(runtime: Runtime, n_features: int) -> CallCost:
    """Time a batch of CALIBRATION_ROWS rows, then one row (runtimes that resize for a batch
    are left sized for one); this is also the models' warm-up before the first request."""
    batch = _best_of(runtime, np.zeros((CALIBRATION_ROWS, n_features)), 2)
    one = _best_of(runtime, np.zeros((1, n_features)), 3)
    row = max(batch - one, 0.0) / (CALIBRATION_ROWS - 1)
    return CallCost(max(one - row, 0.0), row)


@dataclass(frozen=True)
class BrokenVersion:
    """A version that failed to load, and the stamp of the metadata it failed with."""

    name: str
    version: int
    reason: str
    stamp: tuple[int, int]


@dataclass
class RefreshReport:
    loaded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def _stamp(folder: Path) -> tuple[int, int]:
    """Changes when metadata.json is rewritten: a failed version is retried only then."""
    try:
        info = (folder / METADATA_FILE).stat()
    except OSError:
        return (0, 0)
    return (info.st_mtime_ns, info.st_size)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_version(folder: Path, name: str, version: int) -> LoadedModel:
    """Read metadata, check every file's size and checksum, then deserialise the artifact."""
    started = time.perf_counter()
    try:
        metadata = ModelMetadata.model_validate_json((folder / METADATA_FILE).read_bytes())
    except FileNotFoundError as exc:
        raise VersionLoadError("metadata.json is missing") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "document"
        raise VersionLoadError(f"metadata.json is invalid: {where}: {first['msg']}") from exc
    if (metadata.name, metadata.version) != (name, version):
        raise VersionLoadError(
            f"metadata.json says {metadata.name} version {metadata.version}, "
            f"folder is {name}/{version}"
        )
    if metadata.framework not in LOADERS:
        raise VersionLoadError(f"unknown framework {metadata.framework!r}")
    for file_name, digest in metadata.files.items():
        path = folder / file_name
        # Only plain file names inside this version's folder are ever read.
        if Path(file_name).name != file_name or file_name.startswith("."):
            raise VersionLoadError(f"metadata.json lists an invalid file name {file_name!r}")
        if not path.is_file():
            raise VersionLoadError(f"{file_name} is missing")
        # A symlink may point anywhere: only what really lies in the registry is ever read.
        if not path.resolve().is_relative_to(folder.resolve().parent.parent):
            raise VersionLoadError(f"{file_name} lies outside the registry folder")
        if path.stat().st_size != digest.bytes or _sha256(path) != digest.sha256:
            raise VersionLoadError(f"{file_name} does not match its recorded SHA-256 checksum")
    try:
        runtime = LOADERS[metadata.framework](folder)
    except Exception as exc:  # any library error while deserialising: the version is unusable
        # The library's message may hold paths and versions: it goes to the log, not to clients.
        logger.warning("%s/%s: artifact failed to load: %s", name, version, exc)
        raise VersionLoadError(f"artifact failed to load ({type(exc).__name__})") from exc
    try:
        cost = measure_cost(runtime, metadata.input.n_features)
    except Exception as exc:  # a model that cannot score zeros cannot be served either
        logger.warning("%s/%s: artifact failed its first prediction: %s", name, version, exc)
        raise VersionLoadError(f"artifact failed to predict ({type(exc).__name__})") from exc
    return LoadedModel(metadata, runtime, folder, time.perf_counter() - started, cost)


class ModelRegistry:
    """Every servable version under a registry folder; refreshed in place, read lock-free."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._models: dict[str, dict[int, LoadedModel]] = {}
        self._broken: dict[tuple[str, int], BrokenVersion] = {}
        self._refresh_lock = threading.Lock()
        self.scanned = False
        self._labels: dict[str, dict[str, Label]] = {}
        self._label_stamps: dict[str, tuple[int, int, int]] = {}
        self.label_errors: dict[str, str] = {}  # model -> why its labels.json was not read

    @classmethod
    def load(cls, root: Path) -> Self:
        registry = cls(root)
        registry.refresh()
        return registry

    def _on_disk(self) -> dict[tuple[str, int], Path]:
        found: dict[tuple[str, int], Path] = {}
        if not self.root.is_dir():
            return found
        for model_dir in self.root.iterdir():
            if not (model_dir.is_dir() and NAME_PATTERN.match(model_dir.name)):
                continue
            for version_dir in model_dir.iterdir():
                # Staging folders (.staging-*) and anything else not a number are not versions.
                if version_dir.is_dir() and version_dir.name.isdigit():
                    found[(model_dir.name, int(version_dir.name))] = version_dir
        return found

    def refresh(self) -> RefreshReport:
        """Load versions that appeared, drop those that vanished; working versions stay."""
        with self._refresh_lock:
            report = RefreshReport()
            on_disk = self._on_disk()
            models = {name: dict(versions) for name, versions in self._models.items()}
            broken = {key: b for key, b in self._broken.items() if key in on_disk}
            for (name, version), folder in sorted(on_disk.items()):
                if version in models.get(name, {}):
                    continue
                stamp = _stamp(folder)
                known = broken.get((name, version))
                if known is not None and known.stamp == stamp:
                    continue
                try:
                    loaded = load_version(folder, name, version)
                except (VersionLoadError, OSError) as exc:
                    # OSError: a file this process may not read (permissions) skips the version
                    # too, reported without the path, which clients must not see.
                    reason = (
                        str(exc)
                        if isinstance(exc, VersionLoadError)
                        else f"a file cannot be read ({exc.strerror})"
                    )
                    broken[(name, version)] = BrokenVersion(name, version, reason, stamp)
                    report.failed.append(f"{name}/{version}: {reason}")
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
    ) -> tuple[LoadedModel, LoadedModel | None]:
        """The version that answers a request, and the shadow that also scores it (or None):
        a pinned version; a named label; else `production` when it exists, else the newest."""
        if version is not None:
            return self.get(name, version), None
        labels = self._labels.get(name, {})
        chosen = labels.get(label or PRODUCTION)
        if chosen is None:
            if label is not None:
                known = ", ".join(sorted(labels)) or "none"
                self.get(name)  # an unknown model is a 404 of its own
                raise LabelNotFoundError(
                    f"Model '{name}' has no label '{label}' (labels: {known})."
                )
            return self.get(name), None
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
        return answering, shadow

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

    def ready(self) -> dict[str, dict[int, LoadedModel]]:
        """The loaded versions by name (a snapshot: safe to iterate)."""
        return self._models

    def broken(self) -> list[BrokenVersion]:
        return sorted(self._broken.values(), key=lambda b: (b.name, b.version))
