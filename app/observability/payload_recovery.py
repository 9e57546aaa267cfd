"""Segments left `.partial` by a process that died: completed as far as their last full line
(renamed `.jsonl`), or removed when they hold none; a segment a live process holds (flock) is
left to it. The folder sink (payload_files.py) runs this when it starts."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

PARTIAL = ".partial"
SEGMENT = ".jsonl"
TAIL_BLOCK = 64 * 1024


def fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _last_line_end(fd: int, size: int) -> int:
    """The offset just past the last newline of the file, 0 when it has none."""
    end = size
    while end > 0:
        start = max(0, end - TAIL_BLOCK)
        block = os.pread(fd, end - start, start)
        found = block.rfind(b"\n")
        if found >= 0:
            return start + found + 1
        end = start
    return 0


def recover(folder: Path) -> int:
    """Complete every leftover `.partial` segment no live process holds, as far as its last
    full line (removed when it has none); how many were found."""
    found = 0
    for partial in sorted(folder.glob(f"*{SEGMENT}{PARTIAL}")):
        try:
            fd = os.open(partial, os.O_RDWR)
        except OSError:  # gone, or not ours to complete: left as it is
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # another worker's open segment
            found += 1
            end = _last_line_end(fd, os.fstat(fd).st_size)
            os.ftruncate(fd, end)
            os.fsync(fd)
            if end == 0:
                partial.unlink()
            else:
                partial.rename(partial.with_name(partial.name.removesuffix(PARTIAL)))
        finally:
            os.close(fd)
    if found:
        fsync_folder(folder)
    return found
