"""Retry with exponential backoff and jitter, for the gateway errors that may succeed on a new attempt.

Only `GatewayError`s whose `retryable` is True are retried (timeouts, connection errors, HTTP 5xx,
HTTP 429, malformed JSON, ENEDIS_UNAVAILABLE); authentication, validation and quota errors never are.
An HTTP 429 carrying `Retry-After` waits that long, like every wait capped at `max_delay` (a sync never
blocks longer than that on one request; a retry that comes too early costs no quota unit, only a 429).
"""

from __future__ import annotations

import asyncio
import logging
import random as _random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from app.gateway.errors import GatewayError, GatewayUnavailableError

__all__ = ["RetryPolicy", "TooManyRequestsError"]

log = logging.getLogger(__name__)
_T = TypeVar("_T")


class TooManyRequestsError(GatewayUnavailableError):
    """HTTP 429 (the EcoWatt quota, or a gateway asking to slow down). Retryable; `retry_after` in
    seconds when the gateway said so. It does not stop a sync run: only the route that got it failed."""

    stops_run = False

    def __init__(
        self, message: str, *, retry_after: float | None = None, usage_point_id: str | None = None
    ) -> None:
        super().__init__(message, usage_point_id=usage_point_id)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` in total (1 = no retry); delay before retry n (1-based) is
    `min(max_delay, base_delay * 2**(n-1))`, spread by +/- `jitter` (a fraction of it)."""

    attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 60.0
    jitter: float = 0.5
    random: Callable[[], float] = field(default=_random.random, repr=False, compare=False)
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be within 0..1")

    @classmethod
    def none(cls) -> RetryPolicy:
        """A single attempt."""
        return cls(attempts=1)

    def should_retry(self, error: BaseException, attempt: int) -> bool:
        """Whether to try again after `error` on (1-based) `attempt`."""
        return attempt < self.attempts and isinstance(error, GatewayError) and error.retryable

    def delay(self, attempt: int, error: BaseException | None = None) -> float:
        """Seconds to wait after the failed (1-based) `attempt`."""
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, int | float) and retry_after >= 0:
            # the server said how long: a little jitter on top only (never earlier than asked, unless capped)
            seconds = float(retry_after)
            return min(self.max_delay, seconds * (1 + self.jitter * self.random() * 0.1))
        backoff = min(self.max_delay, self.base_delay * (1 << min(attempt - 1, 62)))
        spread = backoff * self.jitter * (2 * self.random() - 1)
        return max(0.0, min(self.max_delay, backoff + spread))

    async def run(self, operation: Callable[[], Awaitable[_T]], *, what: str = "request") -> _T:
        """Await `operation()` until it succeeds, fails for good, or the attempts are used up."""
        attempt = 1
        while True:
            try:
                return await operation()
            except GatewayError as error:
                if not self.should_retry(error, attempt):
                    raise
                wait = self.delay(attempt, error)
                log.debug(
                    "%s failed (%s), attempt %d/%d, retrying in %.3f s",
                    what,
                    error.code,
                    attempt,
                    self.attempts,
                    wait,
                )
                await self.sleep(wait)
                attempt += 1
