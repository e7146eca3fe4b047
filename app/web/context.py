"""What every page and API module of the web layer shares: the app keys and the request helpers (the
service, its store or a 503, today's Paris date, the page's language, the selected usage point).

Imports nothing from `app.web`, so any web module can import it without a cycle.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import web

from app import timeline
from app.domain import Direction, UsagePoint
from app.memory import IdleTrimmer
from app.service import Service
from app.store import Store

SERVICE: web.AppKey[Service] = web.AppKey("service", Service)
TRIMMER: web.AppKey[IdleTrimmer] = web.AppKey("trimmer", IdleTrimmer)
TRIM_TASKS: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("trim_tasks", set)
LANG: web.RequestKey[str] = web.RequestKey("lang", str)
LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"  # the web UI speaks French unless the visitor chooses English
EARLIEST_DAY = dt.date(2000, 1, 1)  # before any Linky meter
LATEST_DAYS_AHEAD = 400  # Tempo/EcoWatt forecasts and a season's end; beyond that a date is a mistake


def service(request: web.Request) -> Service:
    return request.app[SERVICE]


def lang_of(request: web.Request) -> str:
    """The page's language, picked by the app's language middleware (French before it ran)."""
    language: str = request.get(LANG, DEFAULT_LANGUAGE)
    return language


def other_lang(language: str) -> str:
    return "en" if language == "fr" else "fr"


def today_of(service: Service) -> dt.date:
    """Today in Paris, by the service's clock (the demo and the tests run at a fixed instant)."""
    return timeline.paris_today(service.now())


def today(request: web.Request) -> dt.date:
    return today_of(request.app[SERVICE])


def store_of(request: web.Request) -> Store | None:
    """The store; None when the database cannot be opened (pages still render, saying so)."""
    return request.app[SERVICE].store


def require_store(request: web.Request) -> Store:
    """The store, or a JSON 503 saying the database cannot be opened (the pages show why on the dashboard)."""
    store = store_of(request)
    if store is None:
        raise web.HTTPServiceUnavailable(
            text='{"error": "storage_error", "message": "the database cannot be opened"}',
            content_type="application/json",
        )
    return store


def pick_point(points: Sequence[UsagePoint], wanted: str | None) -> UsagePoint | None:
    """The usage point asked for when it is one of `points`, else the first one (None when there is none)."""
    return next((p for p in points if p.usage_point_id == wanted), points[0] if points else None)


@dataclass(frozen=True, slots=True)
class Selection:
    """The usage points a page can show and the one shown (`?pdl=` or the first)."""

    points: list[UsagePoint]
    point: UsagePoint | None

    @property
    def pdl(self) -> str | None:
        return None if self.point is None else self.point.usage_point_id


async def selected_point(
    request: web.Request, direction: Direction | None = None, *, wanted: str | None = None
) -> Selection:
    """The usage point a page shows: among those measuring `direction` (all of them when None), the one
    named by `wanted` (default: the `pdl` query parameter), else the first. Empty without a store."""
    store = store_of(request)
    if store is None:
        return Selection([], None)
    points = await store.usage_points()
    if direction is Direction.CONSUMPTION:
        points = [p for p in points if p.has_consumption]
    elif direction is Direction.PRODUCTION:
        points = [p for p in points if p.has_production]
    point = pick_point(points, request.query.get("pdl") if wanted is None else wanted)
    return Selection(points, point)
