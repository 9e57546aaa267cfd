"""What is on disk: the version folders of a registry, and their files read once and verified."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from app.registry.labels import HISTORY_FILE, LABELS_FILE
from app.schemas import ModelMetadata

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# ASCII digits only: str.isdigit() also takes '²', '١' and '１', and int() reads '01' as 1.
VERSION_PATTERN = re.compile(r"[1-9][0-9]*", re.ASCII)
METADATA_FILE = "metadata.json"
# Where python -m training compare writes (app/registry/comparisons.py): not a model.
COMPARISONS_DIR = "_comparisons"
MAX_METADATA_BYTES = 4 * 1024 * 1024
Stamp = tuple[tuple[str, int, int, int, int], ...]


class VersionLoadError(Exception):
    """A version on disk that cannot be served; the message says why."""


@dataclass
class Scan:
    """The version folders found, and what was skipped there with the reason."""

    versions: dict[tuple[str, int], Path] = field(default_factory=dict)
    invalid: list[str] = field(default_factory=list)


def _inside(path: Path, root: Path) -> bool:
    """Whether `path`, its links followed, lies in `root` (a loop of links does not)."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # RuntimeError: a loop of symbolic links
        return False


def _is_folder_inside(path: Path, root: Path, allow_symlinks: bool) -> str | None:
    """None when `path` is a real folder in the registry; else why it is skipped."""
    if path.is_symlink():
        if not allow_symlinks:
            return "a symbolic link (set SERVING_ALLOW_SYMLINKS=true to follow links)"
        if not _inside(path, root):
            return "a symbolic link to a folder outside the registry"
    return None if path.is_dir() else "not a folder"


def _skip_reason(
    entry: Path, pattern: re.Pattern[str], naming: str, root: Path, allow_symlinks: bool
) -> str | None:
    """None for a folder to scan; else why it is skipped."""
    if not pattern.fullmatch(entry.name):
        return naming
    return _is_folder_inside(entry, root, allow_symlinks)


def _versions_of(model_dir: Path, root: Path, allow_symlinks: bool, found: Scan) -> None:
    for entry in sorted(model_dir.iterdir()):
        # Staging folders (.staging-*) are versions being written: not there yet. Labels and
        # their history: app/registry/labels.py.
        if entry.name.startswith(".") or entry.name in (LABELS_FILE, HISTORY_FILE):
            continue
        naming = "not a version number (1, 2, 3, ... in ASCII digits)"
        problem = _skip_reason(entry, VERSION_PATTERN, naming, root, allow_symlinks)
        if problem is not None:
            found.invalid.append(f"{model_dir.name}/{entry.name!r}: {problem}")
            continue
        found.versions[(model_dir.name, int(entry.name))] = entry


def scan(root: Path, allow_symlinks: bool = False) -> Scan:
    """Every `<name>/<version>/` folder under `root`. Never raises: what cannot be read or is
    not a version is listed in `invalid` and skipped."""
    found = Scan()
    try:
        if not root.is_dir():
            return found
        real_root = root.resolve()
        model_dirs = sorted(root.iterdir())
    except OSError as exc:
        found.invalid.append(f"the registry folder cannot be listed ({exc.strerror})")
        return found
    for model_dir in model_dirs:
        # Files beside the models (README.md) and hidden folders are not models.
        if model_dir.name.startswith(".") or model_dir.name == COMPARISONS_DIR:
            continue
        if not model_dir.is_dir():
            continue
        where = repr(model_dir.name)
        naming = f"not a model name ({NAME_PATTERN.pattern})"
        problem = _skip_reason(model_dir, NAME_PATTERN, naming, real_root, allow_symlinks)
        if problem is not None:
            found.invalid.append(f"{where}: {problem}")
            continue
        try:
            _versions_of(model_dir, real_root, allow_symlinks, found)
        except OSError as exc:
            found.invalid.append(f"{where}: cannot be listed ({exc.strerror})")
    return found


def stamp(folder: Path) -> Stamp:
    """Changes when any file of the folder is added, removed, rewritten or replaced: a failed
    version is retried then (a copy still in progress completes later)."""
    entries = []
    try:
        with os.scandir(folder) as listing:
            for entry in listing:
                try:
                    info = entry.stat()
                except OSError:
                    info = entry.stat(follow_symlinks=False)
                entries.append(
                    (entry.name, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
                )
    except OSError:
        return ()
    return tuple(sorted(entries))


def _open(folder: Path, file_name: str, root: Path, allow_symlinks: bool) -> int:
    path = folder / file_name
    if allow_symlinks:
        if not _inside(path, root.resolve()):
            raise VersionLoadError(f"{file_name} lies outside the registry folder")
        path = path.resolve()
    try:
        # O_NOFOLLOW: a link is refused, not followed; O_NONBLOCK: a FIFO cannot stall the scan.
        return os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError as exc:
        raise VersionLoadError(f"{file_name} is missing") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise VersionLoadError(
                f"{file_name} is a symbolic link (set SERVING_ALLOW_SYMLINKS=true to follow links)"
            ) from exc
        raise


def read_file(
    folder: Path, file_name: str, root: Path, allow_symlinks: bool, limit_bytes: int
) -> bytes:
    """The content of a regular file in `folder`, read once; at most `limit_bytes` + 1 bytes."""
    descriptor = _open(folder, file_name, root, allow_symlinks)
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise VersionLoadError(f"{file_name} is not a regular file")
        return handle.read(limit_bytes + 1)


def read_verified(
    folder: Path, file_name: str, sha256: str, size: int, root: Path, allow_symlinks: bool
) -> bytes:
    """The file's bytes, after checking them against their recorded size and SHA-256: the
    caller deserialises these bytes, never the file again, so what was checked is what runs."""
    content = read_file(folder, file_name, root, allow_symlinks, size)
    if len(content) != size or hashlib.sha256(content).hexdigest() != sha256:
        raise VersionLoadError(f"{file_name} does not match its recorded SHA-256 checksum")
    return content


@dataclass(frozen=True)
class VerifiedVersion:
    """A version's metadata and the bytes of the artifact it names, both checked."""

    metadata: ModelMetadata
    artifact: str
    content: bytes
    example: bytes | None = None  # the signature's stored example rows, when it names them


def _metadata(folder: Path, root: Path, allow_symlinks: bool) -> ModelMetadata:
    content = read_file(folder, METADATA_FILE, root, allow_symlinks, MAX_METADATA_BYTES)
    if len(content) > MAX_METADATA_BYTES:
        raise VersionLoadError(f"metadata.json is over {MAX_METADATA_BYTES} bytes")
    try:
        return ModelMetadata.model_validate_json(content)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "document"
        raise VersionLoadError(f"metadata.json is invalid: {where}: {first['msg']}") from exc


# Registries written before metadata.json named its artifact: the file served for each
# framework, in order of preference, provided metadata.json lists it.
LEGACY_ARTIFACTS = {"sklearn": ("model.onnx", "model.joblib"), "keras": ("model.tflite",)}


def artifact_of(metadata: ModelMetadata) -> str:
    """The file metadata.json names to serve (never one found on disk only)."""
    if metadata.artifact is not None:
        if metadata.artifact not in metadata.files:
            raise VersionLoadError(
                f"metadata.json names the artifact {metadata.artifact!r} but lists no checksum "
                "for it"
            )
        return metadata.artifact
    for candidate in LEGACY_ARTIFACTS.get(metadata.framework, ()):
        if candidate in metadata.files:
            return candidate
    raise VersionLoadError("metadata.json names no artifact and lists none the server can load")


def read_version(
    folder: Path, name: str, version: int, root: Path, allow_symlinks: bool
) -> VerifiedVersion:
    """Read metadata.json, then every file it lists, each once, against its size and SHA-256;
    keep the bytes of the artifact. Files it does not list are never opened."""
    metadata = _metadata(folder, root, allow_symlinks)
    if (metadata.name, metadata.version) != (name, version):
        raise VersionLoadError(
            f"metadata.json says {metadata.name} version {metadata.version}, "
            f"folder is {name}/{version}"
        )
    artifact = artifact_of(metadata)
    signature = (metadata.model_extra or {}).get("signature")
    example_name = signature.get("example") if isinstance(signature, dict) else None
    if example_name is not None and example_name not in metadata.files:
        raise VersionLoadError(
            f"the signature names the example {str(example_name)[:64]!r} but metadata.json "
            "lists no checksum for it"
        )
    content, example = b"", None
    for file_name, digest in metadata.files.items():
        # Only plain file names inside this version's folder are ever read.
        if Path(file_name).name != file_name or file_name.startswith("."):
            raise VersionLoadError(f"metadata.json lists an invalid file name {file_name!r}")
        data = read_verified(folder, file_name, digest.sha256, digest.bytes, root, allow_symlinks)
        if file_name == artifact:
            content = data
        if file_name == example_name:
            example = data
    return VerifiedVersion(metadata, artifact, content, example)
