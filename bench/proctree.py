"""Resident memory of a process and all its descendants, read from /proc."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

POLL_SECONDS = 0.02


def children(pid: int) -> list[int]:
    """The direct children of `pid`, from every one of its threads; none if it is gone."""
    found: list[int] = []
    for listing in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found.extend(int(child) for child in listing.read_text().split())
        except OSError:  # the thread ended between the glob and the read
            continue
    return found


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants, parents first."""
    pids, index = [pid], 0
    while index < len(pids):
        pids.extend(child for child in children(pids[index]) if child not in pids)
        index += 1
    return pids


def status_kb(pid: int, field: str) -> int | None:
    """A kB figure of /proc/<pid>/status (VmRSS, VmHWM); None once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None  # a zombie has no memory lines


def rss_mb(pid: int) -> float:
    """Resident memory of the whole tree now: the sum of each process's VmRSS."""
    return sum(status_kb(p, "VmRSS") or 0 for p in tree(pid)) / 1024


class PeakMemory:
    """The peak resident memory of a tree: each process's VmHWM (its own peak), summed.

    Processes are remembered once seen, so a worker that exits between polls still counts."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.peaks_kb: dict[int, int] = {}

    def reset(self) -> None:
        """Start every process's VmHWM from its resident memory now (Linux: clear_refs 5), so
        the peak is the one reached while watching, not while the models loaded."""
        for pid in tree(self.root):
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:  # not permitted, or gone: its peak since start counts instead
                continue

    def poll(self) -> None:
        for pid in tree(self.root):
            peak = status_kb(pid, "VmHWM")
            if peak is not None:
                self.peaks_kb[pid] = max(peak, self.peaks_kb.get(pid, 0))

    @property
    def total_mb(self) -> float:
        return sum(self.peaks_kb.values()) / 1024


@contextmanager
def watching(root: int, interval: float = POLL_SECONDS) -> Iterator[PeakMemory]:
    """Poll the tree's peaks in a thread while the block runs, and once more at its end."""
    peak = PeakMemory(root)
    peak.reset()
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            peak.poll()

    peak.poll()
    poller = threading.Thread(target=loop, name="peak-memory", daemon=True)
    poller.start()
    try:
        yield peak
    finally:
        stop.set()
        poller.join()
        peak.poll()
