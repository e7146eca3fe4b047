"""Give freed memory back to the system once the program goes quiet (a Raspberry Pi has 1 GB for all).

A full sync or a crawl of the pages allocates tens of MB of short-lived objects. CPython frees them, but
glibc's malloc keeps the freed pages in its arenas (one per thread that allocated: aiosqlite runs each
connection in its own thread), so the resident size stays at its peak. After a burst of work has been
quiet for ``delay`` seconds, :class:`IdleTrimmer` runs a full collection and ``malloc_trim(0)``, which
returns the free pages of every arena. Elsewhere than glibc it only collects.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import logging
from collections.abc import Callable

__all__ = ["IdleTrimmer", "release_memory"]

log = logging.getLogger(__name__)


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


_TRIM = _malloc_trim()


def release_memory() -> None:
    """A full garbage collection, then freed malloc pages back to the system (glibc only)."""
    gc.collect()
    if _TRIM is not None:
        _TRIM(0)


class IdleTrimmer:
    """``touch()`` after each piece of work; :func:`release_memory` runs once nothing touched it for
    ``delay`` seconds (so never in the middle of a burst of page requests or a sync)."""

    def __init__(self, delay: float = 2.0, release: Callable[[], None] = release_memory) -> None:
        self.delay = delay
        self._release_memory = release
        self._handle: asyncio.TimerHandle | None = None
        self.releases = 0

    def touch(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = asyncio.get_running_loop().call_later(self.delay, self._release)

    def _release(self) -> None:
        self._handle = None
        self.releases += 1
        self._release_memory()
