"""Turns on a pool shared between models: each model's tasks wait in a queue of their own, and a
freed place goes to the next model in turn that has one waiting (round robin), so one model's
stream of large batches never queues ahead of another model's request.

Used from the event loop only, with no lock: a task holds its place until its work, in the
pool, is done (not merely until its awaiting request is cancelled), so the pool never has more
work than places and its own queue stays empty.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


class FairGate:
    """`places` tasks at a time, handed out in turn between keys (model names)."""

    def __init__(self, places: int) -> None:
        self.loop = asyncio.get_running_loop()
        self._free = places
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}
        self._turns: deque[str] = deque()  # keys with a task waiting, in the order served

    def waiting(self) -> int:
        return sum(len(queue) for queue in self._waiting.values())

    async def enter(self, key: str) -> None:
        """Wait for a place: at once when one is free and nobody waits, else in key's queue."""
        if self._free > 0 and not self._turns:
            self._free -= 1
            return
        gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._waiting.get(key)
        if queue is None:
            queue = self._waiting[key] = deque()
            self._turns.append(key)
        queue.append(gate)
        try:
            await gate
        except asyncio.CancelledError:
            if gate.done() and not gate.cancelled():  # given a place it will not use
                self.leave()
            raise

    def leave(self) -> None:
        """A place is free again: to the next key in turn with a task still waiting."""
        while self._turns:
            key = self._turns.popleft()
            queue = self._waiting[key]
            gate = queue.popleft()
            if queue:
                self._turns.append(key)  # its next task waits for its next turn
            else:
                del self._waiting[key]
            if not gate.done():  # a cancelled request's gate is skipped
                gate.set_result(None)
                return
        self._free += 1

    async def run(self, key: str, submit: Callable[[], Future[T]]) -> T:
        """`submit()`'s work, started once key has a place, which is freed when it ends."""
        await self.enter(key)
        try:
            future = submit()
        except BaseException:
            self.leave()
            raise
        loop = asyncio.get_running_loop()

        def done(_: Future[T]) -> None:
            if not loop.is_closed():  # a thread finishing after the server stopped
                loop.call_soon_threadsafe(self.leave)

        future.add_done_callback(done)
        return await asyncio.wrap_future(future)
