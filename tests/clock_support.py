"""A clock tests move by hand, with the `wait_until` the price clock of the discovery exporter awaits."""

from __future__ import annotations

import asyncio
import datetime as dt


class SteppedClock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self._moved = asyncio.Condition()
        self.waiting: list[dt.datetime] = []  # instants a task waits for now

    def __call__(self) -> dt.datetime:
        return self.now

    async def wait_until(self, when: dt.datetime) -> None:
        async with self._moved:
            self.waiting.append(when)
            self._moved.notify_all()
            try:
                await self._moved.wait_for(lambda: self.now >= when)
            finally:
                self.waiting.remove(when)
            self._moved.notify_all()

    async def waiter_for(self, when: dt.datetime) -> None:
        """Wait until some task sleeps until `when` (the scheduler is keyed on that instant)."""
        try:
            async with self._moved:
                await asyncio.wait_for(self._moved.wait_for(lambda: when in self.waiting), 30)
        except TimeoutError:
            raise AssertionError(
                f"nothing waits for {when} (now {self.now}; waiting: {self.waiting})"
            ) from None

    async def move_to(self, when: dt.datetime) -> None:
        async with self._moved:
            self.now = when
            self._moved.notify_all()

    async def next_waiter(self) -> dt.datetime:
        """The instant a task waits for next (after the current one): the scheduler's next wake-up."""
        async with self._moved:
            await asyncio.wait_for(self._moved.wait_for(lambda: any(w > self.now for w in self.waiting)), 30)
            return min(w for w in self.waiting if w > self.now)
