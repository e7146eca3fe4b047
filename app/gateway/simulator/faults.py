"""Seeded fault injection for the simulator's counted data routes."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable

HTTP_500 = "http_500"
HTTP_502 = "http_502"
TIMEOUT = "timeout"
HTTP_429 = "http_429"
RATE_LIMIT_EXCEEDED = "rate_limit_exceeded"
ENEDIS_UNAVAILABLE = "enedis_unavailable"
PARTIAL_DATA = "partial_data"
MALFORMED_JSON = "malformed_json"
DUPLICATE_DAYS = "duplicate_days"

ALL_FAULTS: frozenset[str] = frozenset(
    {
        HTTP_500,
        HTTP_502,
        TIMEOUT,
        HTTP_429,
        RATE_LIMIT_EXCEEDED,
        ENEDIS_UNAVAILABLE,
        PARTIAL_DATA,
        MALFORMED_JSON,
        DUPLICATE_DAYS,
    }
)
#: faults that only change the transport (any counted route, v1 included)
TRANSPORT_FAULTS: frozenset[str] = frozenset({HTTP_500, HTTP_502, TIMEOUT, HTTP_429, MALFORMED_JSON})
#: faults answered inside the v2 envelope (every /enedis route)
ENVELOPE_FAULTS: frozenset[str] = TRANSPORT_FAULTS | {RATE_LIMIT_EXCEEDED, ENEDIS_UNAVAILABLE}
#: faults that alter a batch curve answer
BATCH_FAULTS: frozenset[str] = ENVELOPE_FAULTS | {PARTIAL_DATA, DUPLICATE_DAYS}
#: faulted requests that do not consume a quota unit
UNCOUNTED_FAULTS: frozenset[str] = frozenset({HTTP_429, HTTP_502, TIMEOUT})


class FaultInjector:
    """Draws faults with `random.Random(seed)` at `rate`, in request order, so a run is reproducible.

    `force()` queues faults that the next eligible requests get regardless of the rate (tests).
    """

    def __init__(self, rate: float, seed: int, kinds: Iterable[str] = ALL_FAULTS) -> None:
        unknown = set(kinds) - ALL_FAULTS
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self.rate = rate
        self.kinds = frozenset(kinds)
        self.rng = random.Random(seed)
        self._forced: deque[str] = deque()

    def force(self, *kinds: str) -> None:
        for kind in kinds:
            if kind not in ALL_FAULTS:
                raise ValueError(f"unknown fault kind {kind!r}")
            self._forced.append(kind)

    @property
    def pending(self) -> list[str]:
        return list(self._forced)

    def draw(self, applicable: frozenset[str]) -> str | None:
        """The fault for this request, or None. A forced fault waits for a request it applies to."""
        for index, kind in enumerate(self._forced):
            if kind in applicable:
                del self._forced[index]
                return kind
        if self.rate <= 0:
            return None
        if self.rng.random() >= self.rate:
            return None
        choices = sorted(applicable & self.kinds)
        if not choices:
            return None
        return self.rng.choice(choices)
