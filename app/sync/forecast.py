"""Fetches the gateway's Tempo forecast a few times a day (every 4 h, like the gateway refreshes it) and
keeps it in the store. The route needs no authentication and uses no quota."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from app.tempo_forecast import SettingsStore, TempoForecast, save_forecast

log = logging.getLogger(__name__)

EVERY = dt.timedelta(hours=4)
RETRY = dt.timedelta(minutes=20)


class TempoForecastPoller:
    def __init__(
        self,
        fetch: Callable[[], Awaitable[Any]],
        store: SettingsStore,
        clock: Callable[[], dt.datetime],
        *,
        on_saved: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.fetch = fetch
        self.store = store
        self.clock = clock
        self.on_saved = on_saved
        self.last_error: str | None = None
        self._task: asyncio.Task[None] | None = None

    async def refresh(self) -> TempoForecast | None:
        """Fetch and keep the forecast now; a failure is logged and leaves the previous one in place."""
        try:
            forecast = await save_forecast(self.store, await self.fetch(), self.clock())
        except Exception as exc:
            self.last_error = str(exc) or type(exc).__name__
            log.warning("Tempo forecast not updated: %s", self.last_error)
            return None
        self.last_error = None
        log.info("Tempo forecast updated: %d days", len(forecast.days))
        if self.on_saved is not None:
            await self.on_saved()
        return forecast

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="tempo-forecast")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            ok = await self.refresh() is not None
            delay = (EVERY if ok else RETRY).total_seconds() * random.uniform(0.9, 1.1)
            await asyncio.sleep(delay)
