"""Failed admin attempts counted per client address, so a token cannot be guessed quickly."""

from __future__ import annotations

import math
import time

# Addresses remembered at most; beyond, those whose count has leaked away are forgotten first,
# then the longest unseen: a flood of addresses cannot grow the table without bound.
MAX_ADDRESSES = 10_000


class FailedAttempts:
    """A leaky bucket per address: each failure adds one, `per_minute` leak away a minute. An
    address whose bucket holds `per_minute` is refused until one has leaked (429, Retry-After),
    whatever token it sends, so a right guess during the wait tells it nothing."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = per_minute
        self._leak_per_second = per_minute / 60
        self._buckets: dict[str, tuple[float, float]] = {}  # address -> (level, when)

    def _level(self, address: str, now: float) -> float:
        level, when = self._buckets.get(address, (0.0, now))
        return max(0.0, level - (now - when) * self._leak_per_second)

    def retry_after(self, address: str) -> int | None:
        """Seconds until `address` may try again, or None when it may now."""
        over = self._level(address, time.monotonic()) + 1 - self.capacity
        if over <= 0:
            return None
        return max(1, math.ceil(over / self._leak_per_second))

    def failed(self, address: str) -> None:
        now = time.monotonic()
        level = self._level(address, now) + 1
        self._buckets.pop(address, None)  # re-inserted last: the table is oldest first
        if len(self._buckets) >= MAX_ADDRESSES:
            self._forget(now)
        self._buckets[address] = (level, now)

    def _forget(self, now: float) -> None:
        for address in [a for a in self._buckets if self._level(a, now) == 0.0]:
            del self._buckets[address]
        while len(self._buckets) >= MAX_ADDRESSES:
            del self._buckets[next(iter(self._buckets))]
