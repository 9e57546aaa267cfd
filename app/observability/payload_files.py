"""The folder sink of the payload log: JSON Lines in segments, each complete or absent.

A segment is written as `<UTC time>-<pid>-<n>.jsonl.partial`, locked (flock) while open; when it
reaches its size or age it is fsynced and renamed to `.jsonl`, so a reader (or a log shipper)
only ever sees whole segments under that name. After a crash, the next start completes each
leftover `.partial` that no live process holds, as far as its last full line, and renames it;
one with no full line is removed. The closed segments are kept under a total size, the oldest
removed first.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from app.observability.payload_records import Capture, Images, SinkError, line
from app.observability.payload_recovery import PARTIAL, SEGMENT, fsync_folder, recover


class SegmentFolder:
    """Writes records to size- and age-rotated segments under a total size (see above)."""

    def __init__(
        self,
        folder: Path,
        segment_bytes: int,
        segment_seconds: float,
        max_bytes: int,
        images: Images,
        removed: Callable[[int], None],
    ) -> None:
        self.folder = folder
        self.segment_bytes = segment_bytes
        self.segment_seconds = segment_seconds
        self.max_bytes = max_bytes
        self.images = images
        self.removed = removed  # told how many old segments were removed
        self.recovered = 0
        self._prepared = False
        self._fd: int | None = None
        self._path: Path | None = None
        self._size = 0
        self._opened = 0.0
        self._count = 0

    def describe(self) -> str:
        return f"folder {self.folder}"

    def _failed(self, exc: OSError, lost: int) -> SinkError:
        reason = exc.strerror or str(exc)
        return SinkError(f"cannot write payloads to {self.folder}: {reason}", lost)

    def _prepare(self) -> None:
        """Once: the folder made, leftover segments completed, the total bound kept."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.recovered = recover(self.folder)
        self._keep_bound()
        self._prepared = True

    def start(self) -> None:
        """Prepare the folder now rather than at the first record (tried again then if it
        fails now)."""
        try:
            self._prepare()
        except OSError as exc:
            raise self._failed(exc, 0) from None

    def write(self, captures: list[Capture]) -> None:
        encoded = [line(capture, self.images) for capture in captures]
        written = 0
        try:
            if not self._prepared:
                self._prepare()
            while written < len(encoded):
                self._rotate_if_due(len(encoded[written]))
                if self._fd is None:
                    self._open()
                room, batch = self.segment_bytes - self._size, [encoded[written]]
                size = len(batch[0])  # a record larger than a segment has one of its own
                while written + len(batch) < len(encoded):
                    following = encoded[written + len(batch)]
                    if size + len(following) > room:
                        break
                    batch.append(following)
                    size += len(following)
                self._append(b"".join(batch))
                written += len(batch)
        except OSError as exc:
            raise self._failed(exc, len(encoded) - written) from None

    def tick(self) -> None:
        """Close the open segment once it is old enough (called when idle too)."""
        try:
            self._rotate_if_due(0)
        except OSError as exc:
            raise self._failed(exc, 0) from None

    def close(self) -> None:
        if self._fd is not None:
            try:
                self._close_segment()
            except OSError as exc:
                raise self._failed(exc, 0) from None

    def _rotate_if_due(self, incoming: int) -> None:
        if self._fd is None:
            return
        full = self._size > 0 and self._size + incoming > self.segment_bytes
        if full or time.monotonic() - self._opened >= self.segment_seconds:
            self._close_segment()

    def _open(self) -> None:
        while True:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            self._count += 1
            path = self.folder / f"{stamp}-{os.getpid()}-{self._count:04d}{SEGMENT}{PARTIAL}"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # another process's recovery took it first: a new name
                os.close(fd)
                continue
            self._fd, self._path, self._size = fd, path, 0
            self._opened = time.monotonic()
            return

    def _append(self, data: bytes) -> None:
        assert self._fd is not None
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError:
            # A disk that filled mid-record must not leave a torn line for the next one.
            os.ftruncate(self._fd, self._size)
            raise
        self._size += len(data)

    def _close_segment(self) -> None:
        fd, path = self._fd, self._path
        assert fd is not None and path is not None
        self._fd = self._path = None
        try:
            os.fsync(fd)
            if self._size == 0:
                path.unlink()
            else:
                path.rename(path.with_name(path.name.removesuffix(PARTIAL)))
            fsync_folder(self.folder)
        finally:
            os.close(fd)  # a segment left .partial here is completed at the next start
        self._keep_bound()

    def _keep_bound(self) -> None:
        """Remove the oldest closed segments until they and an open one fit the total."""
        segments = []
        for path in sorted(self.folder.glob(f"*{SEGMENT}")):
            try:
                segments.append((path, path.stat().st_size))
            except FileNotFoundError:  # another worker removed it
                continue
        total = sum(size for _, size in segments) + min(self.segment_bytes, self.max_bytes)
        removed = 0
        for path, size in segments:
            if total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size
            removed += 1
        if removed:
            self.removed(removed)
