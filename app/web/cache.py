"""The web layer's one cache: everything computed from stored data, valid until the next sync.

Stored data only changes with a sync (or a new choice of offer, contract or off-peak hours), so chart
answers, the cost pages' figures and the per-day peak / off-peak split are kept until then and cleared
together at one place (`WebCache.clear`, called after each sync by `setup_cache`).

Single flight: one computation in flight per key, later callers await it; a semaphore bounds how many
different heavy computations run at once (a burst of requests right after a sync must not price the
same year a hundred times, nor every page at the same time, on a Raspberry Pi).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiohttp import web

from app.web.charts import SplitCache
from app.web.context import SERVICE, TRIMMER

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
log = logging.getLogger(__name__)

WARM_STOP_TIMEOUT = 10.0  # seconds a shutdown waits for a cache warm-up in progress
ANSWER_BYTES = 24 * 1024 * 1024  # chart answers kept at most (JSON and CSV bodies)


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


class Memo(Generic[K, V]):
    """Values by key, computed once (single flight) and kept until `clear`; bounded by count and by
    weight, least recently used out first. A value computed across a `clear` is returned, not kept."""

    def __init__(
        self,
        size: int,
        concurrency: int,
        max_weight: int | None = None,
        weigh: Callable[[V], int] = lambda _: 1,
    ) -> None:
        self.size = size
        self.max_weight = max_weight
        self._weigh = weigh
        self._weight = 0
        self._values: OrderedDict[K, V] = OrderedDict()
        self._generation = 0
        self.flights: SingleFlight[K, V] = SingleFlight(concurrency)

    def clear(self) -> None:
        self._values.clear()
        self._weight = 0
        self._generation += 1
        self.flights.forget()

    def get(self, key: K) -> V | None:
        found = self._values.get(key)
        if found is not None:
            self._values.move_to_end(key)
        return found

    async def run(self, key: K, compute: Callable[[], Awaitable[V]]) -> V:
        found = self.get(key)
        if found is not None:
            return found
        generation = self._generation

        async def fill() -> V:
            value = await compute()
            if generation == self._generation:
                self._keep(key, value)
            return value

        return await self.flights.run(key, fill)

    def _keep(self, key: K, value: V) -> None:
        if value is None:
            return
        weight = self._weigh(value)
        if self.max_weight is not None and weight > self.max_weight // 4:
            return  # one huge value must not push every other one out
        old = self._values.pop(key, None)
        if old is not None:
            self._weight -= self._weigh(old)
        self._values[key] = value
        self._weight += weight
        too_heavy = self.max_weight is not None and self._weight > self.max_weight
        while len(self._values) > self.size or too_heavy:
            _, dropped = self._values.popitem(last=False)
            self._weight -= self._weigh(dropped)
            too_heavy = self.max_weight is not None and self._weight > self.max_weight


@dataclass(frozen=True, slots=True)
class Answer:
    """A JSON or CSV answer as kept: a fresh `web.Response` is made from it for each request."""

    body: bytes
    content_type: str
    headers: dict[str, str]

    @staticmethod
    def of(response: web.Response) -> Answer | None:
        """What to keep of a response; None for one that must not be kept (an error, a streamed body)."""
        if response.status != 200 or not isinstance(response.body, bytes):
            return None
        headers = {k: v for k, v in response.headers.items() if k == "Content-Disposition"}
        return Answer(response.body, response.content_type, headers)

    def response(self) -> web.Response:
        return web.Response(body=self.body, content_type=self.content_type, headers=self.headers)


class WebCache:
    """Chart answers by day, language and URL (24 MB at most); the cost pages' figures by page, point,
    period and day (pricing a year of curve under every offer takes a tenth of a second); the per-day
    peak / off-peak split of each load curve. Valid until the next sync, cleared together."""

    def __init__(self) -> None:
        self.answers: Memo[str, Answer | None] = Memo(
            64, concurrency=4, max_weight=ANSWER_BYTES, weigh=lambda a: 0 if a is None else len(a.body)
        )
        self.figures: Memo[tuple[str, ...], dict[str, Any]] = Memo(32, concurrency=2)
        self.splits = SplitCache()

    def clear(self) -> None:
        self.answers.clear()
        self.figures.clear()
        self.splits.clear()


Warmer = Callable[[web.Application], Awaitable[None]]
CACHE: web.AppKey[WebCache] = web.AppKey("web_cache", WebCache)
WARMERS: web.AppKey[list[Warmer]] = web.AppKey("cache_warmers", list)


def setup_cache(app: web.Application) -> None:
    """The app's cache: cleared after each sync, then warmed again; warmed at start too (in the
    background: the server answers meanwhile, computing on demand)."""
    app[CACHE] = WebCache()
    app[WARMERS] = []

    async def warm_then_trim(app: web.Application) -> None:
        for warm in app[WARMERS]:
            try:
                await warm(app)
            except Exception as exc:  # a warm-up never takes the server down; requests compute on demand
                log.warning("cache warm-up %s failed: %s", getattr(warm, "__name__", warm), exc)
        trimmer = app.get(TRIMMER)
        if trimmer is not None:
            trimmer.touch()  # the warm-up's temporary objects: memory back to the system

    async def refresh_after_sync(_: object) -> None:
        app[CACHE].clear()
        await warm_then_trim(app)

    async def warm_on_startup(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(warm_then_trim(app))
        yield
        # Let a warm-up in progress finish its queries before the store closes: a task cancelled in the
        # middle of one leaves the database thread answering a closed event loop.
        await asyncio.wait({task}, timeout=WARM_STOP_TIMEOUT)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app[SERVICE].after_sync.append(refresh_after_sync)
    app.cleanup_ctx.append(warm_on_startup)


def keep_warm(app: web.Application, warm: Warmer) -> None:
    """`warm` fills part of the cache from the store, at start and after each sync (after the clear)."""
    app[WARMERS].append(warm)
