"""Single flight: one computation in flight per key, later callers await it; a semaphore bounds how many
different heavy computations run at once (a burst of requests right after a sync must not price the
same year a hundred times, nor every page at the same time, on a Raspberry Pi).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    def __init__(self, concurrency: int = 2) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._inflight: dict[K, asyncio.Task[V]] = {}
        self.started: Counter[K] = Counter()  # computations started per key (for benchmarks and tests)

    def forget(self) -> None:
        """Later calls start afresh (in-flight computations finish for those already waiting)."""
        self._inflight.clear()

    async def run(self, key: K, compute: Callable[[], Awaitable[V]]) -> V:
        task = self._inflight.get(key)
        if task is None:
            self.started[key] += 1
            task = asyncio.get_running_loop().create_task(self._bounded(compute))
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._done(key, done))
        # shield: a caller that goes away (client disconnected) does not cancel it for the others
        return await asyncio.shield(task)

    async def _bounded(self, compute: Callable[[], Awaitable[V]]) -> V:
        async with self._slots:
            return await compute()

    def _done(self, key: K, task: asyncio.Task[V]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved here: the callers that still wait get it from their await
