"""The JSON API behind every chart (`/api/...`), its CSV downloads (`format=csv`) and `/api/openapi.json`.

Bad parameters get a 400 with a readable message naming the parameter; an unknown usage point a 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from aiohttp import web

from app import tariff_rules, timeline
from app.costing import contract_timeline, offpeak_hours
from app.domain import Direction, UsagePoint, subscribed_power
from app.store import Store
from app.tempo_forecast import stored_forecast
from app.web import charts
from app.web.cache import SingleFlight
from app.web.charts import VIEWS, Chart, Period, SplitCache, View
from app.web.openapi import document

log = logging.getLogger(__name__)
SPLIT_CACHE: web.AppKey[SplitCache] = web.AppKey("split_cache", SplitCache)


class AnswerCache:
    """Recent API answers (body, content type, headers) by day and URL: stored data only changes with a
    sync, which clears it. Bounded, least recently used out first."""

    def __init__(self, size: int = 64, max_bytes: int = 24 * 1024 * 1024, concurrency: int = 4) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self._bytes = 0
        self._answers: OrderedDict[str, tuple[bytes, str, dict[str, str]]] = OrderedDict()
        self.flights: SingleFlight[str, None] = SingleFlight(concurrency)

    def clear(self) -> None:
        self._answers.clear()
        self._bytes = 0
        self.flights.forget()

    def get(self, key: str) -> web.Response | None:
        found = self._answers.get(key)
        if found is None:
            return None
        self._answers.move_to_end(key)
        body, content_type, headers = found
        return web.Response(body=body, content_type=content_type, headers=headers)

    def put(self, key: str, response: web.Response) -> None:
        if response.status != 200 or not isinstance(response.body, bytes):
            return
        if len(response.body) > self.max_bytes // 4:
            return  # one huge answer must not push every other one out
        headers = {k: v for k, v in response.headers.items() if k == "Content-Disposition"}
        old = self._answers.pop(key, None)
        if old is not None:
            self._bytes -= len(old[0])
        self._answers[key] = (response.body, response.content_type, headers)
        self._bytes += len(response.body)
        while len(self._answers) > self.size or self._bytes > self.max_bytes:
            _, (body, _, _) = self._answers.popitem(last=False)
            self._bytes -= len(body)


ANSWER_CACHE: web.AppKey[AnswerCache] = web.AppKey("answer_cache", AnswerCache)


EARLIEST_DAY = dt.date(2000, 1, 1)  # before any Linky meter
LATEST_DAYS_AHEAD = 400  # Tempo/EcoWatt forecasts and a season's end; beyond that a date is a mistake


class BadParameterError(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def _store(request: web.Request) -> Store:
    from app.web.app import SERVICE

    store = request.app[SERVICE].store
    if store is None:
        raise web.HTTPServiceUnavailable(
            text='{"error": "storage_error", "message": "the database cannot be opened"}',
            content_type="application/json",
        )
    return store


def _lang(request: web.Request) -> str:
    from app.web.app import LANG

    return request[LANG]


def _today(request: web.Request) -> dt.date:
    from app.web.app import SERVICE

    return timeline.paris_today(request.app[SERVICE].now())


def _date(request: web.Request, name: str, default: dt.date | None = None) -> dt.date:
    value = request.query.get(name)
    if not value:
        if default is None:
            raise BadParameterError(name, f"{name} is required (YYYY-MM-DD)")
        return default
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise BadParameterError(name, f"{name}={value[:40]!r} is not a date (YYYY-MM-DD)") from None
    latest = _today(request) + dt.timedelta(days=LATEST_DAYS_AHEAD)
    if not EARLIEST_DAY <= day <= latest:
        raise BadParameterError(name, f"{name}={value} is out of range ({EARLIEST_DAY} to {latest})")
    return day


def _choice(request: web.Request, name: str, choices: tuple[str, ...], default: str) -> str:
    value = request.query.get(name, default)
    if value not in choices:
        raise BadParameterError(name, f"{name}={value!r} must be one of {', '.join(choices)}")
    return value


async def _point(request: web.Request, store: Store) -> UsagePoint:
    pdl = request.query.get("pdl", "")
    if not pdl:
        raise BadParameterError("pdl", "pdl is required (the 14-digit usage point number)")
    for point in await store.usage_points():
        if point.usage_point_id == pdl:
            return point
    raise web.HTTPNotFound(
        text=f'{{"error": "unknown_usage_point", "message": "no usage point {pdl[:14]!s} in this account"}}',
        content_type="application/json",
    )


def _period(request: web.Request) -> Period:
    yesterday = _today(request) - dt.timedelta(days=1)
    view: View = _choice(request, "view", VIEWS, "month")  # type: ignore[assignment]
    return Period.of(view, min(_date(request, "end", yesterday), yesterday))


def _direction(request: web.Request) -> Direction:
    return Direction(_choice(request, "direction", tuple(d.value for d in Direction), "consumption"))


def _answer(request: web.Request, chart: Chart, name: str) -> web.Response:
    if request.query.get("format") == "csv":
        return web.Response(
            text=charts.to_csv(chart),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return web.json_response(chart)


ApiHandler = Callable[[web.Request], Awaitable[web.Response]]


def guarded(handler: ApiHandler, *, cached: bool = True) -> ApiHandler:
    """Bad parameters as a 400 naming them; answers cached until the next sync unless `cached` is off
    (answers that change between syncs, like the Tempo forecast fetched every 4 hours)."""

    async def wrapped(request: web.Request) -> web.Response:
        cache = request.app[ANSWER_CACHE]
        key = f"{_today(request)}|{_lang(request)}|{request.path_qs}"
        if not cached:
            try:
                return await handler(request)
            except BadParameterError as exc:
                return _bad_parameter(exc)
        found = cache.get(key)
        if found is not None:
            return found
        own: list[web.Response] = []

        async def compute() -> None:
            response = await handler(request)
            cache.put(key, response)
            own.append(response)

        try:
            # Concurrent identical requests: one computes, the others answer from what it cached.
            await cache.flights.run(key, compute)
            if own:
                return own[0]
            found = cache.get(key)
            return found if found is not None else await handler(request)
        except BadParameterError as exc:
            return _bad_parameter(exc)

    wrapped.__name__ = handler.__name__
    return wrapped


def _bad_parameter(exc: BadParameterError) -> web.Response:
    return web.json_response(
        {"error": "bad_parameter", "parameter": exc.name, "message": exc.message}, status=400
    )


async def usage_points(request: web.Request) -> web.Response:
    store = _store(request)
    contracts = await store.contracts()
    out = []
    for point in await store.usage_points():
        contract = contracts.get(point.usage_point_id)
        out.append(
            {
                "usage_point_id": point.usage_point_id,
                "name": point.name,
                "subscribed_power_kva": subscribed_power(contract, point),
                "pricing_option": point.pricing_option.value,
                "offpeak_hours": [
                    str(r) for r in await offpeak_hours(store, point.usage_point_id, contract, point)
                ],
                "has_consumption": point.has_consumption,
                "has_production": point.has_production,
            }
        )
    return web.json_response(out)


async def energy(request: web.Request) -> web.Response:
    store = _store(request)
    point = await _point(request, store)
    direction = _direction(request)
    period = _period(request)
    compare = None
    if direction is Direction.PRODUCTION and point.has_consumption:
        compare = Direction.CONSUMPTION
    chart = await charts.energy_chart(
        store, point.usage_point_id, direction, period, _lang(request), compare=compare
    )
    return _answer(request, chart, f"{direction.value}_{period.view}_{point.usage_point_id}")


async def split(request: web.Request) -> web.Response:
    store = _store(request)
    point = await _point(request, store)
    period = _period(request)
    periods = await contract_timeline(store, point.usage_point_id)
    if not any(tariff_rules.splits_peak_offpeak(p) for p in periods):
        raise BadParameterError("pdl", f"usage point {point.usage_point_id} has no off-peak hours")
    chart = await charts.split_chart(
        store, request.app[SPLIT_CACHE], point.usage_point_id, periods, period, _lang(request)
    )
    return _answer(request, chart, f"hp_hc_{period.view}_{point.usage_point_id}")


async def curve(request: web.Request) -> web.Response:
    store = _store(request)
    point = await _point(request, store)
    direction = _direction(request)
    last = _date(request, "last", _today(request) - dt.timedelta(days=1))
    first = _date(request, "first", last)
    if first > last:
        raise BadParameterError("first", "first must not be after last")
    if (last - first).days + 1 > charts.MAX_CURVE_DAYS:
        raise BadParameterError("first", f"at most {charts.MAX_CURVE_DAYS} days of load curve per request")
    chart = await charts.curve_chart(store, point.usage_point_id, direction, first, last, _lang(request))
    return _answer(request, chart, f"curve_{direction.value}_{first}_{last}_{point.usage_point_id}")


async def compare(request: web.Request) -> web.Response:
    store = _store(request)
    point = await _point(request, store)
    direction = _direction(request)
    end = _date(request, "end", _today(request) - dt.timedelta(days=1))
    chart = await charts.compare_years_chart(store, point.usage_point_id, direction, end, _lang(request))
    return _answer(request, chart, f"{direction.value}_{end.year}_vs_{end.year - 1}_{point.usage_point_id}")


async def max_power(request: web.Request) -> web.Response:
    store = _store(request)
    point = await _point(request, store)
    period = _period(request)
    kva = subscribed_power(await store.contract(point.usage_point_id), point)
    chart = await charts.max_power_chart(store, point.usage_point_id, period, kva, _lang(request))
    return _answer(request, chart, f"max_power_{period.view}_{point.usage_point_id}")


async def ecowatt(request: web.Request) -> web.Response:
    store = _store(request)
    first = _date(request, "first", _today(request))
    last = _date(request, "last", first + dt.timedelta(days=3))
    if first > last or (last - first).days > 31:
        raise BadParameterError("last", "last must be within 31 days after first")
    chart = await charts.ecowatt_chart(store, first, last, _lang(request))
    return _answer(request, chart, f"ecowatt_{first}_{last}")


async def tempo(request: web.Request) -> web.Response:
    store = _store(request)
    season_first, season_last = tariff_rules.tempo_season(_today(request))
    first = _date(request, "first", season_first)
    last = _date(request, "last", season_last)
    if first > last:
        raise BadParameterError("first", "first must not be after last")
    days = await store.tempo(first, last)
    if request.query.get("format") == "csv":
        rows = "".join(f"{d.day.isoformat()};{d.color.value}\n" for d in days)
        return web.Response(
            text="day;color\n" + rows,
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="tempo_{first}_{last}.csv"'},
        )
    season_days = [d for d in days if season_first <= d.day <= season_last]
    return web.json_response(
        {
            "days": [{"day": d.day.isoformat(), "color": d.color.value} for d in days],
            "season": {"first": season_first.isoformat(), "last": season_last.isoformat()},
            "remaining": charts.tempo_remaining(season_days, season_first),
            "forecast": await tempo_forecast_json(store),
        }
    )


async def tempo_forecast_json(store: Any) -> dict[str, Any] | None:
    """The stored gateway forecast: coming days with probabilities (0..1) and the season's stock."""
    forecast = await stored_forecast(store)
    if forecast is None:
        return None
    return {
        "season": forecast.season,
        "fetched_at": forecast.fetched_at.isoformat() if forecast.fetched_at else None,
        "remaining": {c.value: n for c, n in forecast.remaining.items()},
        "used": {c.value: n for c, n in forecast.used.items()},
        "days": [
            {
                "day": d.day.isoformat(),
                "most_likely": d.most_likely.value,
                "probability": d.probability,
                "probabilities": {c.value: p for c, p in d.probabilities.items()},
                "confidence": d.confidence,
            }
            for d in forecast.days
        ],
    }


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(document())


def setup_api(app: web.Application) -> None:

    app[SPLIT_CACHE] = SplitCache()
    app[ANSWER_CACHE] = AnswerCache()

    def forget() -> None:
        app[SPLIT_CACHE].clear()
        app[ANSWER_CACHE].clear()

    keep_warm(app, forget, warm_split_cache)
    routes: dict[str, ApiHandler] = {
        "/api/usage_points": usage_points,
        "/api/energy": energy,
        "/api/split": split,
        "/api/curve": curve,
        "/api/compare": compare,
        "/api/max_power": max_power,
        "/api/ecowatt": ecowatt,
        "/api/tempo": tempo,
        "/api/openapi.json": openapi,
    }
    for path, handler in routes.items():
        app.router.add_get(path, guarded(handler, cached=handler is not tempo))


WARM_STOP_TIMEOUT = 10.0  # seconds a shutdown waits for a cache warm-up in progress


def keep_warm(
    app: web.Application,
    forget: Callable[[], None],
    warm: Callable[[web.Application], Coroutine[Any, Any, None]],
) -> None:
    """A cache of stored data: `forget` it after each sync then `warm` it again, and warm it at start
    (in the background: the server answers meanwhile, computing on demand)."""
    from app.web.app import SERVICE, TRIMMER

    async def warm_then_trim(app: web.Application) -> None:
        await warm(app)
        trimmer = app.get(TRIMMER)
        if trimmer is not None:
            trimmer.touch()  # the warm-up's temporary objects: memory back to the system

    async def refresh_after_sync(_: object) -> None:
        forget()
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


async def warm_split_cache(app: web.Application) -> None:
    """Classify the whole stored load curve of each point with off-peak hours once (after a sync and at
    start), so the peak / off-peak charts answer from memory."""
    from app.web.app import SERVICE

    service = app[SERVICE]
    store = service.store
    if store is None:
        return
    try:
        yesterday = timeline.paris_today(service.now()) - dt.timedelta(days=1)
        for point in await store.usage_points():
            periods = await contract_timeline(store, point.usage_point_id)
            if any(tariff_rules.splits_peak_offpeak(p) for p in periods) and point.has_consumption:
                first = Period.of("year", yesterday).first
                await app[SPLIT_CACHE].split(store, point.usage_point_id, periods, first, yesterday)
    except Exception as exc:  # a cache warm-up never takes the server down; requests compute on demand
        log.warning("peak/off-peak cache warm-up failed: %s", exc)


def api_paths(app: web.Application) -> list[str]:
    """Every /api route of the app (the OpenAPI test checks each one is documented)."""
    paths: set[str] = set()
    for resource in app.router.resources():
        info: dict[str, Any] = dict(resource.get_info())
        path = info.get("path") or info.get("formatter")
        if isinstance(path, str) and path.startswith("/api/"):
            paths.add(path)
    return sorted(paths)
