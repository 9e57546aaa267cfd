"""The compute threads are shared in turn between models: one model's queue of batches never
runs ahead of another model's request, and a cancelled request gives its place back."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from app.core.fairness import FairGate


def _task(order: list[str], name: str, release: threading.Event) -> str:
    release.wait(5)
    order.append(name)
    return name


def _caller(
    gate: FairGate, pool: ThreadPoolExecutor, order: list[str], release: threading.Event
) -> Callable[[str, str], asyncio.Task[str]]:
    """Starts a task of `key` through the gate, named `name` in `order` when it runs."""

    def call(key: str, name: str) -> asyncio.Task[str]:
        return asyncio.ensure_future(
            gate.run(key, lambda: pool.submit(_task, order, name, release))
        )

    return call


def test_a_second_model_gets_the_next_turn_not_the_end_of_the_queue() -> None:
    async def scenario() -> list[str]:
        gate, order, release = FairGate(1), [], threading.Event()
        with ThreadPoolExecutor(1) as pool:
            call = _caller(gate, pool, order, release)
            batches = [call("knn", f"knn-{i}") for i in range(6)]
            await asyncio.sleep(0.01)
            victim = call("mnist-cnn", "mnist-cnn")
            await asyncio.sleep(0.01)
            assert gate.waiting() == 6  # five batches and the victim; one batch runs
            release.set()
            await asyncio.gather(*batches, victim)
        return order

    order = asyncio.run(scenario())
    assert order.index("mnist-cnn") <= 2, order  # behind at most the batch running and one more
    assert sorted(order) == sorted([f"knn-{i}" for i in range(6)] + ["mnist-cnn"])


def test_a_cancelled_request_gives_its_place_back() -> None:
    async def scenario() -> list[str]:
        gate, order, release = FairGate(1), [], threading.Event()
        with ThreadPoolExecutor(1) as pool:
            call = _caller(gate, pool, order, release)
            first, gone, last = call("a", "first"), call("b", "gone"), call("c", "last")
            await asyncio.sleep(0.01)
            gone.cancel()
            release.set()
            assert await asyncio.wait_for(asyncio.gather(first, last), 5) == ["first", "last"]
            assert gate.waiting() == 0
            # Its place was not lost: later requests still run.
            more = [call("d", "d1"), call("d", "d2")]
            assert await asyncio.wait_for(asyncio.gather(*more), 5) == ["d1", "d2"]
        return order

    assert asyncio.run(scenario()) == ["first", "last", "d1", "d2"]
