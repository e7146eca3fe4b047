"""Give freed memory back to the system once the program goes quiet (a Raspberry Pi has 1 GB for all).

A full sync or a crawl of the pages allocates tens of MB of short-lived objects. CPython frees them, but
glibc's malloc keeps the freed pages in its arenas (one per thread that allocated: aiosqlite runs each
connection in its own thread), so the resident size stays at its peak. After a burst of work has been
quiet for ``delay`` seconds, :class:`IdleTrimmer` runs a full collection and ``malloc_trim(0)``, which
returns the free pages of every arena. Elsewhere than glibc it only collects.

:func:`one_malloc_arena`, called before any thread starts, keeps glibc from giving each thread an arena
of its own: a page of a thread's arena that still holds one long-lived object (a row fetched by a
database thread and kept in a page cache) stays resident however much around it was freed, and with one
arena those survivors share pages with everything else (bench/memory.py: ~5 MB less resident after a
sync). The threads here run with the GIL or inside SQLite, so they hardly contend for the one lock.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import logging
from collections.abc import Callable

__all__ = ["IdleTrimmer", "one_malloc_arena", "release_memory"]

log = logging.getLogger(__name__)


_M_ARENA_MAX = -8  # glibc's mallopt parameter


def _libc_function(name: str) -> Callable[..., int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        function: Callable[..., int] = getattr(libc, name)
    except (OSError, AttributeError):
        return None
    return function


_TRIM = _libc_function("malloc_trim")
_MALLOPT = _libc_function("mallopt")


def one_malloc_arena() -> bool:
    """Every thread allocates from the main arena (glibc only; call it before starting threads).
    Returns whether the allocator took the setting."""
    return _MALLOPT is not None and _MALLOPT(_M_ARENA_MAX, 1) == 1


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
